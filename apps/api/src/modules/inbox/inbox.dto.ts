import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { TASK_OUTCOMES } from '@sop/domain';

import { ArrayMaxSize, ArrayMinSize, IsArray, IsDateString, IsIn, IsOptional, IsString, IsUUID, Matches, MaxLength } from 'class-validator';
import { Transform } from 'class-transformer';
import { PageQuery } from '../../common/pagination';
import { IsTimeZone } from '../../common/validation';

/** UUIDs compare as Postgres writes them: lower case. */
const Lower = () => Transform(({ value }) => (typeof value === 'string' ? value.toLowerCase() : value));

export const LISTS = ['today', 'overdue', 'upcoming', 'done'] as const;
export type InboxList = (typeof LISTS)[number];
export const OUTCOMES = TASK_OUTCOMES;
export type Outcome = (typeof OUTCOMES)[number];
const TASK_ID = /^[1-9]\d{0,17}$/;

export class InboxQuery extends PageQuery {
  @ApiPropertyOptional({ enum: LISTS, default: 'today' }) @IsOptional() @IsIn(LISTS)
  list: InboxList = 'today';

  @ApiPropertyOptional({ description: 'Whose tasks: yourself by default; a manager may name a member of a team they manage' })
  @IsOptional() @IsUUID() @Lower()
  executorId?: string;

  @ApiPropertyOptional() @IsOptional() @IsUUID() @Lower() sopId?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(40) channel?: string;
  @ApiPropertyOptional() @IsOptional() @IsUUID() @Lower() contactId?: string;
  @ApiPropertyOptional() @IsOptional() @IsUUID() @Lower() groupId?: string;

  @ApiPropertyOptional({ default: 'Asia/Shanghai', description: 'Where "today" is' }) @IsOptional() @IsTimeZone()
  tz: string = 'Asia/Shanghai';
}

export class CountsQuery {
  @ApiPropertyOptional() @IsOptional() @IsUUID() @Lower() executorId?: string;
  @ApiPropertyOptional({ default: 'Asia/Shanghai' }) @IsOptional() @IsTimeZone() tz: string = 'Asia/Shanghai';
}

export class TaskDto {
  @ApiProperty({ example: '1042' }) id: string;
  @ApiProperty() sopId: string;
  @ApiProperty() sopName: string;
  @ApiProperty() stepIndex: number;
  @ApiProperty({ nullable: true, type: String }) contactId: string | null;
  @ApiProperty({ nullable: true, type: String }) contactName: string | null;
  @ApiProperty({ nullable: true, type: String }) groupId: string | null;
  @ApiProperty({ nullable: true, type: String }) groupName: string | null;
  @ApiProperty({ nullable: true, type: String }) executorId: string | null;
  @ApiProperty({ nullable: true, type: String, description: "Who does it (a manager's team list shows it)" }) executorName: string | null;
  @ApiProperty() channel: string;
  @ApiProperty({ description: 'Rendered, ready to copy' }) content: string;
  @ApiProperty({ type: Object, isArray: true }) materials: unknown[];
  @ApiProperty() dueAt: Date;
  @ApiProperty() dueUntil: Date;
  @ApiProperty({ enum: ['pending', 'done', 'skipped', 'expired', 'cancelled'] }) status: string;
  @ApiProperty({ nullable: true, type: String, enum: OUTCOMES }) outcome: string | null;
  @ApiProperty({ nullable: true, type: String }) note: string | null;
  @ApiProperty({ nullable: true, type: Date }) snoozedUntil: Date | null;
  @ApiProperty({ nullable: true, type: Date }) finishedAt: Date | null;
  @ApiProperty({ nullable: true, type: Boolean, description: 'Done within its window (null while not done)' }) onTime: boolean | null;
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
  @ApiProperty({ type: Object, isArray: true, description: 'Materials, each with trackedPath: the link to send (unique to this task)' })
  declare materials: unknown[];
  @ApiProperty({ type: Object, isArray: true, description: 'What happened to this task, oldest first' }) history: unknown[];
  @ApiProperty({ type: Object, isArray: true, description: "The contact's last 5 responses, newest first: { kind, source, outcome?, name?, material?, at }" })
  lastResponses: unknown[];
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
  @ApiProperty({ example: '2026-11-24T10:00:00+08:00' }) @IsDateString({ strict: true }, { message: 'must be an ISO date-time' })
  until: string;
}

export class ReassignDto {
  @ApiProperty() @IsUUID() @Lower()
  executorId: string;
}

export class BulkCompleteDto extends CompleteDto {
  @ApiProperty({ type: [String], example: ['1042', '1043'] })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(500) @Matches(TASK_ID, { each: true, message: 'each id must be a task id' })
  taskIds: string[];
}

export class BulkResultDto {
  @ApiProperty({ type: [TaskDto] }) done: TaskDto[];
  @ApiProperty({ type: Object, isArray: true, description: 'Ids that could not be completed, with why' }) refused: { taskId: string; problem: string }[];
}

export { TASK_ID };
