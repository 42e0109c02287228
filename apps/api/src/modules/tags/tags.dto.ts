import { ApiProperty, ApiPropertyOptional, PartialType, PickType } from '@nestjs/swagger';
import { ApiUuid } from '../../common/openapi';
import { TAG_KINDS, type TagKind } from '@sop/db';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize, IsArray, IsBoolean, IsHexColor, IsIn, IsNumber, IsOptional, IsString, IsUUID, Max, MaxLength, Min,
  MinLength, ValidateIf,
} from 'class-validator';

export class CreateTagGroupDto {
  @ApiProperty({ example: 'Purchase intent 购买意向' }) @IsString() @MinLength(1) @MaxLength(100)
  name: string;

  @ApiPropertyOptional({ default: false, description: 'One tag of this group at a time (e.g. intent low/mid/high)' })
  @IsOptional() @IsBoolean()
  exclusive?: boolean;
}

export class UpdateTagGroupDto extends PartialType(CreateTagGroupDto) {}

export class CreateTagDto {
  @ApiProperty({ format: 'uuid' }) @IsUUID()
  groupId: string;

  @ApiProperty({ example: 'High 高' }) @IsString() @MinLength(1) @MaxLength(100)
  name: string;

  @ApiPropertyOptional({ example: '#ef4444' }) @IsOptional() @IsHexColor()
  color?: string;

  @ApiPropertyOptional({ enum: TAG_KINDS, default: 'manual' }) @IsOptional() @IsIn(TAG_KINDS)
  kind?: TagKind;

  @ApiPropertyOptional({ nullable: true, type: Number, description: 'Default weight (score) when applied' })
  @IsOptional() @ValidateIf((_, v) => v !== null) @IsNumber() @Min(-999999) @Max(999999)
  weight?: number | null;
}

export class UpdateTagDto extends PartialType(PickType(CreateTagDto, ['name', 'color', 'weight'] as const)) {}

export class TagDto {
  @ApiUuid() id: string;
  @ApiUuid() groupId: string;
  @ApiProperty() name: string;
  @ApiProperty() color: string;
  @ApiProperty({ enum: TAG_KINDS }) kind: TagKind;
  @ApiProperty({ nullable: true, type: Number }) weight: number | null;
}

export class TagGroupDto {
  @ApiUuid() id: string;
  @ApiProperty() name: string;
  @ApiProperty() exclusive: boolean;
  @ApiProperty({ type: [TagDto] }) tags: TagDto[];
}

const MAX_BULK = 10_000;

export class TagChangeDto {
  @ApiPropertyOptional({ type: [String], description: 'Tag ids to apply' })
  @IsOptional() @IsArray() @ArrayMaxSize(100) @IsUUID('all', { each: true })
  add?: string[];

  @ApiPropertyOptional({ type: [String], description: 'Tag ids to remove' })
  @IsOptional() @IsArray() @ArrayMaxSize(100) @IsUUID('all', { each: true })
  remove?: string[];

  @ApiPropertyOptional({ description: 'Weight for the applied tags (else each tag\'s default)' })
  @IsOptional() @Type(() => Number) @IsNumber() @Min(-999999) @Max(999999)
  weight?: number;

  @ApiPropertyOptional({ example: 'asked about product B in chat' }) @IsOptional() @IsString() @MaxLength(500)
  reason?: string;
}

export class BulkTagChangeDto extends TagChangeDto {
  @ApiPropertyOptional({ type: [String], format: 'uuid', description: `Contacts to change (at most ${MAX_BULK}); or give segmentId` })
  @IsOptional() @IsArray() @ArrayMaxSize(MAX_BULK) @IsUUID('all', { each: true })
  contactIds?: string[];

  @ApiPropertyOptional({ format: 'uuid', description: 'Change every current member of this segment' })
  @IsOptional() @IsUUID()
  segmentId?: string;
}

export class TagChangeResultDto {
  @ApiProperty({ description: 'Contacts the change applied to' }) contacts: number;
  @ApiProperty({ description: 'Tags newly applied (already present ones are not counted)' }) added: number;
  @ApiProperty({ description: 'Tags removed, including those an exclusive group displaced' }) removed: number;
}
