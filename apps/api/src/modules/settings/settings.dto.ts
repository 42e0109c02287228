import { ApiProperty } from '@nestjs/swagger';
import { TENANT_SETTINGS } from '@sop/domain';
import { IsBoolean, IsInt, Max, Min, ValidateIf } from 'class-validator';
import { IsTimeZone } from '../../common/validation';

export class ContactCapsDto {
  @ApiProperty({ nullable: true, type: Number, example: 1, description: 'Tasks per contact per day across all SOPs; null: no cap' })
  @ValidateIf((_, v) => v !== null) @IsInt() @Min(1) @Max(100)
  perDay: number | null;

  @ApiProperty({ nullable: true, type: Number, example: 3, description: 'Tasks per contact per ISO week across all SOPs; null: no cap' })
  @ValidateIf((_, v) => v !== null) @IsInt() @Min(1) @Max(500)
  perWeek: number | null;
}

export class MaterialSettingsDto {
  @ApiProperty({ description: 'Whether SOP materials may link over plain http (https only when false, the default)' }) @IsBoolean()
  allowHttp: boolean;
}

export class TaskResultSettingsDto {
  @ApiProperty({ example: 'Asia/Shanghai', description: "The organization's zone: the days and weeks of every dashboard figure (changing it rebuilds the rollups)" })
  @IsTimeZone()
  timezone: string;

  @ApiProperty({ example: TENANT_SETTINGS.taskExpiryGraceHours.default, description: 'A pending task whose window closed more than this many hours ago becomes expired' })
  @IsInt() @Min(TENANT_SETTINGS.taskExpiryGraceHours.min) @Max(TENANT_SETTINGS.taskExpiryGraceHours.max)
  taskExpiryGraceHours: number;

  @ApiProperty({ example: TENANT_SETTINGS.attributionWindowDays.default, description: 'A response counts for the latest done task of its contact up to this many days before it (changing it attributes every response again)' })
  @IsInt() @Min(TENANT_SETTINGS.attributionWindowDays.min) @Max(TENANT_SETTINGS.attributionWindowDays.max)
  attributionWindowDays: number;
}
