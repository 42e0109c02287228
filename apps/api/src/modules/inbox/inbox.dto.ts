import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ApiFreeObject, ApiUuid } from '../../common/openapi';
import { TASK_OUTCOMES } from '@sop/domain';

import { ArrayMaxSize, ArrayMinSize, IsArray, IsDateString, IsIn, IsInt, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min } from 'class-validator';
import { Transform, Type } from 'class-transformer';
import { PageQuery } from '../../common/pagination';
import { IsTimeZone } from '../../common/validation';

/** UUIDs compare as Postgres writes them: lower case. */
const Lower = () => Transform(({ value }) => (typeof value === 'string' ? value.toLowerCase() : value));

export const LISTS = ['today', 'overdue', 'upcoming', 'done'] as const;
export type InboxList = (typeof LISTS)[number];
export const OUTCOMES = TASK_OUTCOMES;
export type Outcome = (typeof OUTCOMES)[number];
const TASK_ID = /^[1-9]\d{0,17}$/;

/** What the list's and the counts' query parameters say (the counts take the list's filters, so a badge counts what its list shows). */
const SCOPE_DOCS = {
  executorId: "Whose tasks: one person's (employees: only themselves; managers: themselves or a member of a team they manage). Without it: an employee's own; a manager's own, their teams' and the unassigned ones (nobody could be found for them; managers assign them); an admin's or ops's whole organization's",
  sopId: "Only this SOP's tasks",
  channel: 'Only the tasks on this channel (wecom_chat, phone_call, …)',
  contactId: "Only this contact's tasks",
  groupId: "Only this customer group's tasks",
  tz: 'Where "today" is',
};

export class InboxQuery extends PageQuery {
  @ApiPropertyOptional({ enum: LISTS, default: 'today' }) @IsOptional() @IsIn(LISTS)
  list: InboxList = 'today';

  @ApiPropertyOptional({ format: 'uuid', description: SCOPE_DOCS.executorId })
  @IsOptional() @IsUUID() @Lower()
  executorId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: SCOPE_DOCS.sopId }) @IsOptional() @IsUUID() @Lower() sopId?: string;
  @ApiPropertyOptional({ description: SCOPE_DOCS.channel }) @IsOptional() @IsString() @MaxLength(40) channel?: string;
  @ApiPropertyOptional({ format: 'uuid', description: SCOPE_DOCS.contactId }) @IsOptional() @IsUUID() @Lower() contactId?: string;
  @ApiPropertyOptional({ format: 'uuid', description: SCOPE_DOCS.groupId }) @IsOptional() @IsUUID() @Lower() groupId?: string;

  @ApiPropertyOptional({ default: 'Asia/Shanghai', description: SCOPE_DOCS.tz }) @IsOptional() @IsTimeZone()
  tz: string = 'Asia/Shanghai';
}

/** The list's scope and filters, without the list and the page: what each list would hold under them. */
export class CountsQuery {
  @ApiPropertyOptional({ format: 'uuid', description: SCOPE_DOCS.executorId }) @IsOptional() @IsUUID() @Lower() executorId?: string;
  @ApiPropertyOptional({ format: 'uuid', description: SCOPE_DOCS.sopId }) @IsOptional() @IsUUID() @Lower() sopId?: string;
  @ApiPropertyOptional({ description: SCOPE_DOCS.channel }) @IsOptional() @IsString() @MaxLength(40) channel?: string;
  @ApiPropertyOptional({ format: 'uuid', description: SCOPE_DOCS.contactId }) @IsOptional() @IsUUID() @Lower() contactId?: string;
  @ApiPropertyOptional({ format: 'uuid', description: SCOPE_DOCS.groupId }) @IsOptional() @IsUUID() @Lower() groupId?: string;
  @ApiPropertyOptional({ default: 'Asia/Shanghai', description: SCOPE_DOCS.tz }) @IsOptional() @IsTimeZone() tz: string = 'Asia/Shanghai';
}

export class SopsQuery {
  @ApiPropertyOptional({ format: 'uuid', description: "One person's SOPs (default: every task the caller may see, a manager's unassigned ones included)" }) @IsOptional() @IsUUID() @Lower() executorId?: string;
}

export class InboxSopDto {
  @ApiUuid() id: string;
  @ApiProperty() name: string;
  @ApiProperty({ description: 'Pending tasks of this SOP in the inbox asked for' }) pending: number;
}

export class MaterialDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'The library material the step picked (GET /api/materials/{id})' }) materialId?: string;
  @ApiProperty({ example: 'Coupon 优惠券' }) title: string;
  @ApiProperty({ example: 'https://shop.example/coupon/b' }) url: string;
  @ApiProperty({ type: String, format: 'uuid', isArray: true, description: 'Tags a contact who opens it gets' }) tagIds: string[];
  @ApiPropertyOptional({ enum: ['image'], description: 'image: a library image (a WeCom mass-send uploads it; copy the image, not a link); absent: sent as a link' })
  kind?: 'image';
  @ApiPropertyOptional({ description: "The library article's cover image, when it has one" }) coverUrl?: string;
}

export class TrackedMaterialDto extends MaterialDto {
  @ApiProperty({ example: '/r/…', description: 'The tracked link to send (unique to this task and material)' }) trackedPath: string;
}

export class TaskEventDto {
  @ApiProperty({ example: 'completed', description: 'completed, skipped, snoozed, reassigned, …' }) action: string;
  @ApiUuid({ nullable: true, description: 'Who did it (null: the engine or an API key)' }) actorId: string | null;
  @ApiFreeObject({ description: 'What changed: outcome and note, reason, until, from and to executor, …' }) detail: Record<string, unknown>;
  @ApiProperty() at: Date;
}

export class ResponseSummaryDto {
  @ApiProperty({ example: 'opened' }) kind: string;
  @ApiProperty({ example: 'link' }) source: string;
  @ApiPropertyOptional() outcome?: string;
  @ApiPropertyOptional({ description: 'custom events: their name' }) name?: string;
  @ApiPropertyOptional({ description: 'opened: the material\'s title' }) material?: string;
  @ApiProperty() at: Date;
}

/** What WeCom says about a task handed to it as a mass-send or Moments task (tasks.wecom_send_state). */
export const WECOM_SEND_STATES = ['handed', 'sent', 'not_friend', 'monthly_limit', 'no_wecom_id', 'failed', 'unsent'] as const;

export class TaskDto {
  @ApiProperty({ example: '1042', pattern: '^\\d{1,18}$' }) id: string;
  @ApiUuid() sopId: string;
  @ApiProperty() sopName: string;
  @ApiProperty() stepIndex: number;
  @ApiUuid({ nullable: true }) contactId: string | null;
  @ApiProperty({ nullable: true, type: String }) contactName: string | null;
  @ApiUuid({ nullable: true }) groupId: string | null;
  @ApiProperty({ nullable: true, type: String }) groupName: string | null;
  @ApiUuid({ nullable: true }) executorId: string | null;
  @ApiProperty({ nullable: true, type: String, description: "Who does it (a manager's team list shows it); null with executorId null: nobody could be found for it, a manager assigns it" }) executorName: string | null;
  @ApiProperty() channel: string;
  @ApiProperty({ description: 'Rendered, ready to copy' }) content: string;
  @ApiProperty({ type: [MaterialDto] }) materials: MaterialDto[];
  @ApiProperty() dueAt: Date;
  @ApiProperty() dueUntil: Date;
  @ApiProperty({ enum: ['pending', 'done', 'skipped', 'expired', 'cancelled', 'held'] }) status: string;
  @ApiProperty({ nullable: true, type: String, enum: OUTCOMES }) outcome: string | null;
  @ApiProperty({ nullable: true, type: String }) note: string | null;
  @ApiProperty({ nullable: true, type: Date }) snoozedUntil: Date | null;
  @ApiProperty({ nullable: true, type: Date }) finishedAt: Date | null;
  @ApiProperty({ nullable: true, type: Boolean, description: 'Done within its window (null while not done)' }) onTime: boolean | null;
  @ApiProperty({
    nullable: true, type: String, enum: WECOM_SEND_STATES,
    description: "The step hands its tasks to WeCom (wecomMassSend): handed (waiting for the executor to confirm in WeCom), sent, or why WeCom did not take or "
      + "send it and the task is the executor's by hand (not_friend, monthly_limit: WeCom's 4 a month per customer, no_wecom_id, failed, unsent); null otherwise",
  }) wecomSendState: string | null;
}

export class TaskPageDto {
  @ApiProperty({ type: [TaskDto] }) items: TaskDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

export class CountsDto {
  @ApiProperty() today: number;
  @ApiProperty() overdue: number;
  @ApiProperty() upcoming: number;
  @ApiProperty({ description: 'Finished today' }) done: number;
}

export class TaskDetailDto extends TaskDto {
  @ApiProperty({ type: [String], description: "The contact's tags, by name" }) contactTags: string[];
  @ApiProperty({ type: [TrackedMaterialDto], description: 'Materials, each with trackedPath: the link to send (unique to this task)' })
  declare materials: TrackedMaterialDto[];
  @ApiProperty({ type: [TaskEventDto], description: 'What happened to this task, oldest first' }) history: TaskEventDto[];
  @ApiProperty({ type: [ResponseSummaryDto], description: "The contact's last 5 responses, newest first" })
  lastResponses: ResponseSummaryDto[];
  @ApiProperty({ type: String, nullable: true,
    description: 'Why the hand-over to WeCom failed (as WeCom or the hand-over said it) when wecomSendState is failed; otherwise null' })
  wecomSendError: string | null;
}

export class CompleteDto {
  /** checked by the service (422 INVALID_OUTCOME), as the inbox contract asks */
  @ApiProperty({ enum: OUTCOMES }) @IsString() @MaxLength(40)
  outcome: Outcome;

  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(2000)
  note?: string;
}

export class SkipDto {
  @ApiProperty({ example: 'Customer asked not to be contacted this week' }) @IsString() @Matches(/\S/, { message: 'must not be empty' }) @MaxLength(500)
  reason: string;
}

export class SnoozeDto {
  @ApiProperty({ format: 'date-time', example: '2026-11-24T10:00:00+08:00' }) @IsDateString({ strict: true }, { message: 'must be an ISO date-time' })
  until: string;
}

export class ReassignDto {
  @ApiProperty({ format: 'uuid' }) @IsUUID() @Lower()
  executorId: string;
}

export class BulkCompleteDto extends CompleteDto {
  @ApiProperty({ type: [String], pattern: '^\\d{1,18}$', minItems: 1, maxItems: 500, example: ['1042', '1043'] })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(500) @Matches(TASK_ID, { each: true, message: 'each id must be a task id' })
  taskIds: string[];
}

export class RefusedTaskDto {
  @ApiProperty({ example: '1043', pattern: '^\\d{1,18}$' }) taskId: string;
  @ApiProperty({ example: 'This task is skipped; it cannot be completed.' }) problem: string;
}

export class BulkResultDto {
  @ApiProperty({ type: [TaskDto] }) done: TaskDto[];
  @ApiProperty({ type: [RefusedTaskDto], description: 'Ids that could not be completed, with why' }) refused: RefusedTaskDto[];
}

export { TASK_ID };

/** A task's material, by its place in the task's materials. */
export class MaterialParams {
  @ApiProperty({ description: 'The task id', pattern: '^\\d{1,18}$' }) @IsString() @Matches(/^\d{1,18}$/, { message: 'must be a task id' })
  id: string;

  @ApiProperty({ minimum: 0, maximum: 99 }) @Type(() => Number) @IsInt() @Min(0) @Max(99)
  index: number;
}
