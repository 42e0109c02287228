import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ApiFreeObject, ApiUuid } from '../../common/openapi';
import { IsDefined, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';

const RULE_DOC =
  'A rule tree: { all: [...] } | { any: [...] } | { not: rule } | a predicate: { tag }, { tags: { any|all } }, ' +
  '{ tagWeight: { tag, gte } }, { attribute: { key, op, value } }, { metric: { name, op, value } }, ' +
  '{ daysSince: { field, op, days } }, { owner: { users?, teams? } }, { group: { any } }. See docs/segments.md.';

export class PreviewSegmentDto {
  @ApiFreeObject({ description: RULE_DOC, example: { all: [{ tag: '<high intent tag id>' }, { daysSince: { field: 'lastContacted', op: 'gte', days: 14 } }] } })
  @IsDefined()
  rule: unknown;
}

export class CreateSegmentDto extends PreviewSegmentDto {
  @ApiProperty({ example: 'High intent, product B, silent 14 days' }) @IsString() @MinLength(1) @MaxLength(200)
  name: string;

  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(2000)
  description?: string;
}

export class UpdateSegmentDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @MinLength(1) @MaxLength(200)
  name?: string;

  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(2000)
  description?: string;

  @ApiFreeObject({ required: false, description: RULE_DOC }) @IsOptional()
  rule?: unknown;
}

export class MemberDto {
  @ApiUuid() id: string;
  @ApiProperty() externalId: string;
  @ApiProperty() name: string;
  @ApiUuid({ nullable: true }) ownerId: string | null;
}

export class PreviewDto {
  @ApiProperty({ description: 'How many contacts match now; an estimate when `estimated`' }) count: number;
  @ApiProperty({
    description: 'Whether `count` is estimated from a sample of the contacts (a large organization whose exact count would be slow); ' +
      'a saved segment\'s members are always exact',
  })
  estimated: boolean;
  @ApiProperty({ description: 'With an estimate: the true count is within count ± margin with about 99% confidence; 0 when exact' })
  margin: number;
  @ApiProperty({ type: [MemberDto], description: 'A first page of them (by id when exact; some the sample found when estimated)' }) sample: MemberDto[];
}

export class SegmentDto {
  @ApiUuid() id: string;
  @ApiProperty() name: string;
  @ApiProperty() description: string;
  @ApiFreeObject() rule: unknown;
  @ApiProperty() createdAt: Date;
  @ApiProperty() updatedAt: Date;
}

export class MemberPageDto {
  @ApiProperty({ type: [MemberDto] }) items: MemberDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

export class IsMemberDto {
  @ApiProperty() member: boolean;
}
