import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';

const CORP_ID = '^[A-Za-z0-9]{6,64}$';
const AGENT_ID = '^\\d{1,12}$';

export class ConnectWecomDto {
  @ApiProperty({ example: 'ww1a2b3c4d5e6f7a8b', pattern: CORP_ID, description: 'The corporation id (企业ID)' })
  @IsString() @Matches(new RegExp(CORP_ID), { message: 'must be the corporation id: letters and digits, as in ww1a2b3c4d5e6f7a8b' })
  corpId: string;

  @ApiProperty({ example: '1000002', pattern: AGENT_ID, description: 'The self-built app\'s AgentId, which sends employees their reminders' })
  @IsString() @Matches(new RegExp(AGENT_ID), { message: 'must be the app\'s AgentId: digits' })
  agentId: string;

  @ApiPropertyOptional({ description: 'The customer-contact (客户联系) secret; leave out to keep the saved one' })
  @IsOptional() @IsString() @MinLength(8) @MaxLength(128)
  contactSecret?: string;

  @ApiPropertyOptional({ description: 'The self-built app\'s secret; leave out to keep the saved one' })
  @IsOptional() @IsString() @MinLength(8) @MaxLength(128)
  agentSecret?: string;

  @ApiPropertyOptional({ description: 'The callback Token (up to 32 letters and digits); leave out to keep the saved one' })
  @IsOptional() @IsString() @Matches(/^[A-Za-z0-9]{1,32}$/, { message: 'must be up to 32 letters and digits, as WeCom generates it' })
  callbackToken?: string;

  @ApiPropertyOptional({ description: 'The callback EncodingAESKey (43 characters); leave out to keep the saved one' })
  @IsOptional() @IsString() @Matches(/^[A-Za-z0-9+/]{43}$/, { message: 'must be the 43-character EncodingAESKey WeCom generates' })
  encodingAesKey?: string;
}

class SecretHintsDto {
  @ApiProperty({ example: '…x7Qa' }) contactSecret: string;
  @ApiProperty({ example: '…k2Lm' }) agentSecret: string;
  @ApiProperty({ example: '…9aBc' }) callbackToken: string;
  @ApiProperty({ example: '…Zx01' }) encodingAesKey: string;
}

export class WecomEventErrorDto {
  @ApiProperty() at: Date;
  @ApiProperty({ description: 'change_external_contact, change_external_chat, change_external_tag, ...' }) event: string;
  @ApiProperty({ nullable: true, type: String }) changeType: string | null;
  @ApiProperty() message: string;
}

export class WecomConnectionDto {
  @ApiProperty({ pattern: CORP_ID }) corpId: string;
  @ApiProperty({ pattern: AGENT_ID }) agentId: string;
  @ApiProperty({ type: SecretHintsDto, description: 'The last 4 characters of each app secret (•••• for the callback token and EncodingAESKey); the secrets themselves are never returned' })
  secrets: SecretHintsDto;
  @ApiProperty({ format: 'uri', description: 'Paste into the app\'s and the customer-contact callback settings in the WeCom admin console' })
  callbackUrl: string;
  @ApiProperty() connectedAt: Date;
  @ApiProperty() updatedAt: Date;
  @ApiProperty({ nullable: true, type: Date }) lastCallbackAt: Date | null;
  @ApiProperty({ nullable: true, type: Date }) lastSyncAt: Date | null;
  @ApiProperty({ nullable: true, type: String }) lastError: string | null;
  @ApiProperty({ nullable: true, type: Date }) lastErrorAt: Date | null;
  @ApiProperty({ description: 'Events WeCom delivered in the last 24 hours' }) eventsLastDay: number;
  @ApiProperty({ description: 'Delivered events not applied yet (the worker applies them within seconds)' }) eventsWaiting: number;
  @ApiProperty({ nullable: true, type: Date, description: 'When an event was last applied' }) lastProcessedAt: Date | null;
  @ApiProperty({ nullable: true, type: WecomEventErrorDto, description: 'The last event that could not be applied' }) lastEventError: WecomEventErrorDto | null;
}
