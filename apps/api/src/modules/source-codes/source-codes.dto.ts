import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { ApiUuid } from '../../common/openapi';
import { WECOM_USER_ID } from '../wecom/wecom.dto';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsEmail, IsIn, IsOptional, IsString, IsUUID, Matches, MaxLength, MinLength, ValidateIf, ValidateNested } from 'class-validator';

/** WeCom limits a contact way's `state` (our code) to 30 characters. */
export const WECOM_STATE_MAX = 30;

export class WecomContactWayInputDto {
  @ApiProperty({
    type: [String], format: 'uuid', minItems: 1, maxItems: 100,
    description: 'The employees a scan adds (our user ids, each matched to a WeCom member): one makes a single-person QR code (type 1), several a multi-person one (type 2)',
  })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(100) @IsUUID('all', { each: true })
  userIds: string[];
}

export class WecomContactWayDto {
  @ApiProperty({ pattern: '^[A-Za-z0-9_-]{1,128}$', description: 'WeCom\'s config_id of the "contact me" configuration' }) configId: string;
  @ApiProperty({ description: 'The QR code image WeCom hosts (qr_code); its scans arrive with the code as state' }) qrCode: string;
  @ApiProperty({ type: [String], format: 'uuid' }) userIds: string[];
  @ApiProperty({ type: 'array', items: { type: 'string', pattern: WECOM_USER_ID }, description: 'The WeCom member ids (UserID) the QR code adds' })
  wecomUserIds: string[];
}

export class WecomContactWayLeftoverDto {
  @ApiProperty({
    type: 'array', items: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,128}$' },
    description: 'WeCom config_ids this code no longer uses that may still be in WeCom: del_contact_way failed for them',
  })
  configIds: string[];
  @ApiProperty({ pattern: '^[A-Za-z0-9]{6,64}$', description: 'The WeCom corporation id that holds them (a retry needs the organization connected to it)' })
  corpId: string;
  @ApiProperty({
    enum: ['disconnected', 'removed', 'replaced'],
    description: 'Why the latest was left: WeCom was disconnected, the QR code was taken off the code, or a new configuration replaced it (one member ↔ several)',
  })
  reason: 'disconnected' | 'removed' | 'replaced';
  @ApiProperty({ description: 'Why the last deletion failed: WeCom out of reach, or WeCom\'s errcode and message' }) error: string;
  @ApiProperty({ description: 'When the first was left' }) since: Date;
  @ApiProperty({ description: 'When deleting was last tried' }) triedAt: Date;
}

export class ClearLeftoverQueryDto {
  @ApiPropertyOptional({
    enum: ['true', 'false'], default: 'false',
    description: 'true: forget the leftovers here without asking WeCom (delete them in WeCom by other means); else they are deleted in WeCom now',
  })
  @IsOptional() @IsIn(['true', 'false'])
  forget?: 'true' | 'false';
}

export class CreateSourceCodeDto {
  @ApiProperty({ example: 'XHS-2026-DOUBLE11', description: 'The code a channel or campaign carries (QR code, link parameter)' })
  @IsString() @Matches(/^[A-Za-z0-9_.-]{1,64}$/, { message: 'must be 1 to 64 letters, digits, _ . or -' })
  code: string;

  @ApiProperty({ example: 'Xiaohongshu Double 11 ad 小红书双11广告' }) @IsString() @MinLength(1) @MaxLength(200)
  name: string;

  @ApiPropertyOptional({ type: [String], format: 'uuid', description: 'Tags given to every contact arriving through the code' })
  @IsOptional() @IsArray() @ArrayMaxSize(20) @IsUUID('all', { each: true })
  tagIds?: string[];

  @ApiPropertyOptional({ format: 'uuid', nullable: true, type: String, description: 'Owner given to new arrivals' })
  @IsOptional() @ValidateIf((_, v) => v !== null) @IsUUID()
  ownerId?: string | null;

  @ApiPropertyOptional({
    type: WecomContactWayInputDto, nullable: true,
    description: 'A WeCom "contact me" QR code for the code (add_contact_way, scene 2, the code as state: at most 30 characters). ' +
      'On update: given, the QR code is created or changed; null, it is deleted in WeCom; left out, it stays.',
  })
  @IsOptional() @ValidateIf((_, v) => v !== null) @ValidateNested() @Type(() => WecomContactWayInputDto)
  wecomContactWay?: WecomContactWayInputDto | null;
}

export class UpdateSourceCodeDto extends PartialType(CreateSourceCodeDto) {}

export class SourceCodeDto {
  @ApiUuid() id: string;
  @ApiProperty() code: string;
  @ApiProperty() name: string;
  @ApiProperty({ type: [String], format: 'uuid' }) tagIds: string[];
  @ApiUuid({ nullable: true }) ownerId: string | null;
  @ApiProperty() createdAt: Date;
  @ApiProperty({ type: WecomContactWayDto, nullable: true, description: 'The code\'s WeCom "contact me" QR code, when it has one' })
  wecomContactWay: WecomContactWayDto | null;
  @ApiProperty({
    type: WecomContactWayLeftoverDto, nullable: true,
    description: 'WeCom "contact me" configurations of this code that could not be deleted in WeCom (on disconnect, when the QR code was taken off or ' +
      'replaced): retry or forget them with DELETE /api/source-codes/{id}/wecom-leftover. Null when there are none.',
  })
  wecomLeftover: WecomContactWayLeftoverDto | null;
  @ApiProperty({
    example: 'https://sop.example.com/j/3f0c7a52-8a3e-4c55-9d0e-2b7f0f7b9b11',
    description: 'The link the code\'s QR code carries: a public page where a customer leaves a name and phone number ' +
      'and arrives through the code (its tags, and its owner when new). It names the code by id, so it survives renaming the code.',
  })
  joinUrl: string;
}

/** A source code as the service reads it; the controller adds its join link (built from the request's origin). */
export type SourceCodeRecord = Omit<SourceCodeDto, 'joinUrl'>;

export class JoinDto {
  @ApiProperty({ example: 'XHS-2026-DOUBLE11' }) @IsString() @MinLength(1) @MaxLength(64)
  code: string;

  @ApiProperty({ example: 'wx_8812' }) @IsString() @MinLength(1) @MaxLength(200)
  externalId: string;

  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(200)
  name?: string;

  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(50)
  phone?: string;

  @ApiPropertyOptional() @IsOptional() @IsEmail() @MaxLength(320)
  email?: string;
}
