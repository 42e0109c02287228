import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { MATERIAL_KINDS, type MaterialKind } from '@sop/domain';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsOptional, IsString, IsUUID, MaxLength, MinLength } from 'class-validator';
import { ApiUuid } from '../../common/openapi';
import { PageQuery } from '../../common/pagination';

/** UUIDs compare as Postgres writes them: lower case. */
const Lower = () => Transform(({ value }) => (typeof value === 'string' ? value.toLowerCase() : Array.isArray(value)
  ? value.map((v) => (typeof v === 'string' ? v.toLowerCase() : v)) : value));
const Trim = () => Transform(({ value }) => (typeof value === 'string' ? value.trim() : value));

const URL_RULES = 'https (http only when an admin allowed it: PUT /api/settings/materials), no user:pass@, at most 2000 characters';

export class MaterialInputDto {
  @ApiProperty({ enum: MATERIAL_KINDS }) @IsIn(MATERIAL_KINDS)
  kind: MaterialKind;

  @ApiProperty({ example: '新品券 New-arrival coupon', maxLength: 200 }) @IsString() @Trim() @MinLength(1) @MaxLength(200)
  title: string;

  @ApiProperty({ description: URL_RULES, example: 'https://shop.example/coupon' }) @IsString() @MaxLength(2000)
  url: string;

  @ApiPropertyOptional({ nullable: true, type: String, description: `The cover image: ${URL_RULES}` })
  @IsOptional() @IsString() @MaxLength(2000)
  coverUrl?: string | null;

  @ApiPropertyOptional({ maxLength: 1000, default: '' }) @IsOptional() @IsString() @MaxLength(1000)
  summary?: string;

  @ApiPropertyOptional({ maxLength: 100, default: '', description: "The folder's name ('' is the top level)", example: '促销 Promotions' })
  @IsOptional() @IsString() @Trim() @MaxLength(100)
  folder?: string;

  @ApiPropertyOptional({ type: [String], format: 'uuid', description: 'Tags a contact gets on opening it' })
  @IsOptional() @IsArray() @ArrayMaxSize(50) @IsUUID('all', { each: true }) @Lower()
  tagIds?: string[];
}

export class CreateMaterialDto extends MaterialInputDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'Your id for it: sending it again answers the first material (an Idempotency-Key header works too)' })
  @IsOptional() @IsUUID() @Lower()
  id?: string;
}

export class UpdateMaterialQuery {
  @ApiPropertyOptional({ default: false, description: 'Also publish a new version of every active or paused SOP that picks this material, with its new content' })
  @IsOptional() @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value)) @IsBoolean()
  republish?: boolean;
}

export class MaterialQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'Words in the title or summary' }) @IsOptional() @IsString() @MaxLength(200)
  q?: string;

  @ApiPropertyOptional({ description: "Only this folder ('' for the top level)" }) @IsOptional() @IsString() @MaxLength(100)
  folder?: string;

  @ApiPropertyOptional({ enum: MATERIAL_KINDS }) @IsOptional() @IsIn(MATERIAL_KINDS)
  kind?: MaterialKind;
}

export class MaterialStatsDto {
  @ApiProperty({ description: 'SOPs (not archived) whose working copy or a published version picks it' }) sops: number;
  @ApiProperty({ description: 'Tasks that carried it to a contact' }) sent: number;
  @ApiProperty({ description: 'Counted opens of its tracked links (bots and previews are not counted)' }) opens: number;
  @ApiProperty({ description: 'Contacts who opened it at least once' }) openedContacts: number;
}

export class LibraryMaterialDto {
  @ApiUuid() id: string;
  @ApiProperty({ enum: MATERIAL_KINDS }) kind: MaterialKind;
  @ApiProperty() folder: string;
  @ApiProperty() title: string;
  @ApiProperty() summary: string;
  @ApiProperty({ nullable: true, type: String }) coverUrl: string | null;
  @ApiProperty() url: string;
  @ApiProperty({ type: [String], format: 'uuid' }) tagIds: string[];
  @ApiProperty({ type: MaterialStatsDto }) stats: MaterialStatsDto;
  @ApiProperty() createdAt: Date;
  @ApiProperty() updatedAt: Date;
}

export class LibraryMaterialPageDto {
  @ApiProperty({ type: [LibraryMaterialDto] }) items: LibraryMaterialDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

export class MaterialFolderDto {
  @ApiProperty({ description: "'' is the top level" }) name: string;
  @ApiProperty() materials: number;
}

export class MaterialUseDto {
  @ApiUuid() sopId: string;
  @ApiProperty() sopName: string;
  @ApiProperty({ enum: ['draft', 'active', 'paused', 'archived'] }) sopStatus: string;
  @ApiProperty({ nullable: true, type: Number, description: 'The published version; null for the working copy' }) version: number | null;
  @ApiProperty({ description: "The step's position, from 0" }) stepIndex: number;
  @ApiProperty() stepName: string;
  @ApiProperty({ description: 'Whether this use carries what the library holds now (a published version keeps what it was published with)' }) current: boolean;
}

export class LibraryMaterialDetailDto extends LibraryMaterialDto {
  @ApiPropertyOptional({ type: [MaterialUseDto], description: 'Where it is used: SOP, version (or working copy) and step; for admins and ops only (SOPs are theirs to see)' })
  usage?: MaterialUseDto[];
}

export class RepublishedDto {
  @ApiUuid() sopId: string;
  @ApiProperty() sopName: string;
  @ApiProperty({ nullable: true, type: Number }) version: number | null;
}

export class NotRepublishedDto {
  @ApiUuid() sopId: string;
  @ApiProperty() sopName: string;
  @ApiProperty({ example: 'SOP_INVALID', description: 'Why its new version was refused (its own edit would say the same)' }) code: string;
  @ApiProperty() message: string;
}

export class LibraryMaterialUpdatedDto extends LibraryMaterialDetailDto {
  @ApiProperty({ type: [RepublishedDto], description: 'SOPs that got a new version (with ?republish=true)' }) republished: RepublishedDto[];
  @ApiProperty({ type: [NotRepublishedDto], description: 'SOPs whose new version was refused (e.g. their executor was disabled since): fix and save them' })
  notRepublished: NotRepublishedDto[];
}
