import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUUID, Matches, MaxLength, MinLength, ValidateIf } from 'class-validator';

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

export class WecomPushErrorDto {
  @ApiProperty() at: Date;
  @ApiProperty({ enum: ['contact_tags', 'create_tag', 'rename_tag', 'delete_tag', 'create_group', 'rename_group', 'delete_group'], description: 'contact_tags: marking a contact\'s tags (mark_tag); else a tag definition sent to WeCom' })
  kind: string;
  @ApiProperty({ nullable: true, type: String, format: 'uuid', description: 'The contact (contact_tags), else the tag or tag group' }) id: string | null;
  @ApiProperty({ description: 'WeCom\'s errcode and message, e.g. 84061 (no such relationship) or 40068 (invalid tagid)' }) message: string;
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
  @ApiProperty({ nullable: true, type: Date, description: 'When the last sync succeeded' }) lastSyncAt: Date | null;
  @ApiProperty({ nullable: true, type: String }) lastError: string | null;
  @ApiProperty({ nullable: true, type: Date }) lastErrorAt: Date | null;
  @ApiProperty({ description: 'Events WeCom delivered in the last 24 hours' }) eventsLastDay: number;
  @ApiProperty({ description: 'Delivered events not applied yet (the worker applies them within seconds)' }) eventsWaiting: number;
  @ApiProperty({ nullable: true, type: Date, description: 'When an event was last applied' }) lastProcessedAt: Date | null;
  @ApiProperty({ nullable: true, type: WecomEventErrorDto, description: 'The last event that could not be applied' }) lastEventError: WecomEventErrorDto | null;
  @ApiProperty({ description: 'Our tag changes waiting to be sent to WeCom: contacts to mark plus tag definitions to create, rename or delete' })
  tagPushesWaiting: number;
  @ApiProperty({ description: 'Contacts whose tags could not be marked (WeCom refused, or given up: see tagPushesGivenUp); kept until their tags change again' })
  tagPushesFailed: number;
  @ApiProperty({ nullable: true, type: WecomPushErrorDto, description: 'The last tag change that failed (WeCom refused it, or it was given up)' }) lastTagPushError: WecomPushErrorDto | null;
  @ApiProperty({
    description: 'Of tagPushesFailed: contacts whose push failed 5 times with an error that is not WeCom\'s answer (ours, or an answer we cannot use) ' +
      'and is no longer retried until their tags change again. WeCom out of reach or rate-limiting is not counted (retried until WeCom answers).',
  })
  tagPushesGivenUp: number;
  @ApiProperty({ nullable: true, type: WecomPushErrorDto, description: 'The last contact push given up, with its last error (kind contact_tags)' })
  lastTagPushGivenUp: WecomPushErrorDto | null;
  @ApiProperty({ nullable: true, type: () => WecomSyncRunDto, description: 'The latest sync run (running, or how the last one ended)' })
  lastSync: WecomSyncRunDto | null;
}

/** WeCom's member UserID: 1 to 64 letters, digits and _-@., starting with a letter or digit. */
export const WECOM_USER_ID = '^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$';

export class StartWecomSyncDto {
  @ApiPropertyOptional({ enum: ['full', 'incremental'], default: 'full', description: 'full reads everything; incremental only what changed since the last successful sync' })
  @IsOptional() @IsIn(['full', 'incremental'])
  kind?: 'full' | 'incremental';
}

export class WecomSyncRunDto {
  @ApiProperty({ example: '12', pattern: '^\\d+$' }) id: string;
  @ApiProperty({ enum: ['full', 'incremental'] }) kind: 'full' | 'incremental';
  @ApiProperty({ enum: ['running', 'succeeded', 'failed'] }) status: 'running' | 'succeeded' | 'failed';
  @ApiProperty() startedAt: Date;
  @ApiProperty({ nullable: true, type: Date }) finishedAt: Date | null;
  @ApiProperty({
    type: 'object', additionalProperties: { type: 'integer' }, example: { members: 12, tags: 30, contactPairs: 2400, contactsCreated: 2100, groups: 40 },
    description: 'What the run has done so far: members, tagGroups, tags, contactPairs (contact and following member pairs read), contactsCreated, groups, groupJoins, groupLeaves; an incremental run also dirtyMembers (members whose customers it read again), followsGone and dirtyChats; groupsDismissed: groups WeCom no longer lists, marked dismissed',
  })
  counts: Record<string, number>;
  @ApiProperty({ nullable: true, type: String, description: 'Why the run failed (WeCom\'s errcode and message)' }) error: string | null;
}

export class WecomSyncRunListDto {
  @ApiProperty({ type: [WecomSyncRunDto], description: 'The 20 most recent runs, newest first' }) items: WecomSyncRunDto[];
}

export class WecomMemberDto {
  @ApiProperty({ example: 'zhangsan', pattern: WECOM_USER_ID }) wecomUserId: string;
  @ApiProperty() name: string;
  @ApiProperty({ nullable: true, type: String, description: 'Absent when WeCom withholds it from the app' }) email: string | null;
  @ApiProperty({ description: 'Still a member of the corporation at the last sync' }) active: boolean;
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) userId: string | null;
  @ApiProperty({ nullable: true, type: String }) userName: string | null;
  @ApiProperty({ nullable: true, enum: ['email', 'hand'], type: String, description: 'hand with no user: unmatched by hand (the sync will not match by email)' })
  matchedBy: 'email' | 'hand' | null;
  @ApiProperty() syncedAt: Date;
}

export class WecomMemberListDto {
  @ApiProperty({ type: [WecomMemberDto] }) items: WecomMemberDto[];
}

export class MatchWecomMemberDto {
  @ApiProperty({ nullable: true, type: String, format: 'uuid', description: 'Our user this member is; null to unmatch (the sync then leaves it unmatched)' })
  @ValidateIf((_, v) => v !== null) @IsUUID()
  userId: string | null;
}

export class WecomTagGroupPushDto {
  @ApiProperty({ format: 'uuid' }) groupId: string;
  @ApiProperty({ description: 'true: queued to be created in WeCom; false: already linked to a corp tag group' }) queued: boolean;
}
