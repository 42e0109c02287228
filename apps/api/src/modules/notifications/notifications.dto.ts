import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ApiFreeObject, ApiUuid } from '../../common/openapi';
import { NOTIFY_CHANNELS, LOCALES, NOTIFICATION_KINDS, TARGET_KINDS } from '@sop/domain';
import { Transform } from 'class-transformer';
import { IsBoolean, IsDefined, IsOptional, IsString, MaxLength } from 'class-validator';
import { PageQuery } from '../../common/pagination';

export class NotificationsQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'Only unread ones' })
  @IsOptional() @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value)) @IsBoolean()
  unread?: boolean;
}

export class NotificationDto {
  @ApiProperty({ example: '1042', pattern: '^\\d{1,18}$' }) id: string;
  @ApiProperty({ enum: [...NOTIFICATION_KINDS, 'task_held'], description: 'task_held (ops and admins): tasks of an SOP were held and given to nobody: their content could not be rendered, or no day within a week had room under the caps' }) kind: string;
  @ApiProperty({ description: "Rendered in the user's language when it was created" }) title: string;
  @ApiProperty() body: string;
  @ApiProperty({ nullable: true, type: String, example: '/inbox?task=1042', description: 'Where it leads in the app' }) link: string | null;
  @ApiProperty({ nullable: true, type: String, example: '1042', pattern: '^\\d{1,18}$' }) taskId: string | null;
  @ApiProperty({ description: 'From an SOP step that makes it mandatory: preferences cannot switch it off' }) mandatory: boolean;
  @ApiFreeObject({ description: 'What the notification is about (task, contact, SOP, material…), by kind' }) data: Record<string, unknown>;
  @ApiProperty() createdAt: Date;
  @ApiProperty({ nullable: true, type: Date }) readAt: Date | null;
}

export class NotificationPageDto {
  @ApiProperty({ type: [NotificationDto] }) items: NotificationDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

export class UnreadCountDto {
  @ApiProperty() unread: number;
}

export class ReadAllDto {
  @ApiProperty({ description: 'How many were unread and are now read (0 on a repeat)' }) updated: number;
}

export class StreamTicketDto {
  @ApiProperty({ description: 'Good for one minute and only for the stream: EventSource cannot send headers' }) ticket: string;
  @ApiProperty() expiresAt: Date;
  @ApiProperty({ example: '/api/notifications/stream?ticket=…' }) streamPath: string;
}

export class QuietHoursDto {
  @ApiProperty({ example: '22:00' }) start: string;
  @ApiProperty({ example: '08:00' }) end: string;
}

const PREFERENCES_DOC = 'Fields left out keep their value. Each bad field answers 422 PREFERENCES_INVALID naming it.';

export class PreferencesDto {
  @ApiProperty({ enum: LOCALES, description: 'The language reminders are written in' }) locale: string;
  @ApiProperty({ example: 'Asia/Shanghai', description: 'Digest time and quiet hours are in this zone' }) timezone: string;
  @ApiProperty({ enum: NOTIFY_CHANNELS, isArray: true, description: 'in_app is always on; email goes to your login address; robot kinds go to your targets of that kind' })
  channels: string[];
  @ApiProperty({ example: '08:30' }) digestTime: string;
  @ApiProperty({ nullable: true, type: QuietHoursDto, description: 'External deliveries wait until they end (not mandatory ones)' })
  quietHours: QuietHoursDto | null;
  @ApiProperty({ example: 30, description: 'Due-soon nudge this many minutes before a window closes, unless the SOP step says otherwise' })
  dueSoonMinutes: number;
  @ApiFreeObject({ values: 'boolean', example: { digest: true, due_soon: true, escalation: true, material_opened: true, manager_digest: true }, description: 'Kinds on or off; mandatory SOP reminders come anyway' })
  kinds: Record<string, boolean>;
}

export class UpdatePreferencesDto {
  @ApiPropertyOptional({ type: String, enum: LOCALES, description: PREFERENCES_DOC }) @IsOptional() locale?: unknown;
  @ApiPropertyOptional({ type: String, example: 'Asia/Shanghai' }) @IsOptional() timezone?: unknown;
  @ApiPropertyOptional({ type: String, enum: NOTIFY_CHANNELS, isArray: true }) @IsOptional() channels?: unknown;
  @ApiPropertyOptional({ type: String, example: '08:30' }) @IsOptional() digestTime?: unknown;
  @ApiPropertyOptional({ nullable: true, type: QuietHoursDto }) @IsOptional() quietHours?: unknown;
  @ApiPropertyOptional({ type: Number, example: 30 }) @IsOptional() dueSoonMinutes?: unknown;
  @ApiFreeObject({ required: false, values: 'boolean', example: { digest: false } }) @IsOptional() kinds?: unknown;
}

export class TargetDto {
  @ApiUuid() id: string;
  @ApiProperty({ enum: TARGET_KINDS }) kind: string;
  @ApiProperty() name: string;
  @ApiProperty() url: string;
  @ApiProperty({ nullable: true, type: String, example: '••••a1b2', description: 'The secret is never shown in full' }) secretHint: string | null;
  @ApiProperty() createdAt: Date;
}

export class TargetListDto {
  @ApiProperty({ type: [TargetDto] }) items: TargetDto[];
}

export class CreateTargetDto {
  @ApiProperty({ enum: TARGET_KINDS, description: 'Checked by the service: 422 naming the field' }) @IsDefined() @IsString() @MaxLength(40)
  kind: string;

  @ApiPropertyOptional({ example: 'Shanghai store robot 上海门店机器人' }) @IsOptional() @IsString() @MaxLength(200)
  name?: string;

  @ApiProperty({ example: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…' }) @IsDefined() @IsString() @MaxLength(2000)
  url: string;

  @ApiPropertyOptional({ description: 'Signing secret: required for webhook, optional for DingTalk and Feishu, none for WeCom' })
  @IsOptional() @IsString() @MaxLength(500)
  secret?: string;
}

export class UpdateTargetDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(200) name?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(2000) url?: string;
  @ApiPropertyOptional({ description: 'A new secret (never shown again in full)' }) @IsOptional() @IsString() @MaxLength(500) secret?: string;
}
