import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ApiFreeObject, ApiUuid } from '../../common/openapi';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsDefined, IsString, IsUUID, MaxLength, MinLength, ValidateNested } from 'class-validator';

export class ComputedCaseDto {
  @ApiProperty({ format: 'uuid', description: 'A tag of the rule\'s group' }) @IsUUID()
  tagId: string;

  @ApiFreeObject({ description: 'A segment rule (see docs/segments.md), e.g. { metric: { name: "spend30d", op: "gte", value: 1000 } }' })
  @IsDefined()
  when: unknown;
}

export class CreateComputedTagRuleDto {
  @ApiProperty({ example: '30-day spend tiers 近30天消费分层' }) @IsString() @MinLength(1) @MaxLength(200)
  name: string;

  @ApiProperty({ format: 'uuid', description: 'An exclusive tag group: the rule decides the one tag a contact has in it' }) @IsUUID()
  groupId: string;

  @ApiProperty({ type: [ComputedCaseDto], description: 'Checked in order; the first case that holds gives its tag; none: no tag' })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(50) @ValidateNested({ each: true }) @Type(() => ComputedCaseDto)
  cases: ComputedCaseDto[];
}

export class ComputedTagRuleDto {
  @ApiUuid() id: string;
  @ApiProperty() name: string;
  @ApiUuid() groupId: string;
  @ApiProperty({ type: [ComputedCaseDto] }) cases: ComputedCaseDto[];
  @ApiPropertyOptional({ description: 'Contacts whose tags this save changed (in the answer to a save)' }) changedContacts?: number;
}
