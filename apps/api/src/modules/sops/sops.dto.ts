import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ApiFreeObject, ApiSchemaRef, ApiUuid, ErrorDetailDto } from '../../common/openapi';
import { Type } from 'class-transformer';
import { IsBoolean, IsDefined, IsIn, IsInt, IsISO8601, IsOptional, IsString, IsUUID, Max, MaxLength, Min, MinLength } from 'class-validator';
import { IsTimeZone } from '../../common/validation';
import { CalendarDayDto } from '../calendar/calendar.dto';

export const SOP_STATUSES = ['draft', 'active', 'paused', 'archived'] as const;
export type SopStatus = (typeof SOP_STATUSES)[number];

const DEFINITION_DOC = 'What the SOP does (schema SopDefinition; the checks that need the tenant\'s data answer 422 SOP_INVALID). See docs/sops.md.';

const EXAMPLE = {
  kind: 'journey',
  audience: { segmentId: '<segment id>' },
  entry: { includeExistingMembers: false, reentry: 'never' },
  steps: [
    { name: 'Welcome', offsetDays: 0, window: { start: '10:00', end: '12:00' }, channel: 'wecom_chat',
      content: { template: '{{ contact.name }}，您好！我是{{ owner.name }}。' }, executor: { rule: 'contactOwner' } },
    { name: 'Follow up', offsetDays: 3, window: { start: '14:00', end: '17:00' }, channel: 'wecom_chat',
      content: { template: 'Product B 新品推荐' }, executor: { rule: 'contactOwner' } },
  ],
  policies: { businessDaysOnly: true, quietHours: { start: '21:00', end: '09:00' }, exitOn: [{ on: 'leftSegment' }] },
};

export class CreateSopDto {
  @ApiProperty({ example: 'New customer welcome 新客欢迎' }) @IsString() @MinLength(1) @MaxLength(200)
  name: string;

  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(2000)
  description?: string;

  @ApiSchemaRef('SopDefinition', { description: DEFINITION_DOC, example: EXAMPLE }) @IsDefined()
  definition: unknown;
}

export class UpdateSopDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @MinLength(1) @MaxLength(200)
  name?: string;

  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(2000)
  description?: string;

  @ApiSchemaRef('SopDefinition', { required: false, description: `${DEFINITION_DOC} On an active or paused SOP this publishes a new version.` }) @IsOptional()
  definition?: unknown;
}

export class ListSopsQuery {
  @ApiPropertyOptional({ enum: SOP_STATUSES }) @IsOptional() @IsIn(SOP_STATUSES)
  status?: SopStatus;

  @ApiPropertyOptional({ enum: ['journey', 'recurring', 'broadcast'] }) @IsOptional() @IsIn(['journey', 'recurring', 'broadcast'])
  kind?: string;
}

export class SopVersionDto {
  @ApiProperty() version: number;
  @ApiProperty() publishedAt: Date;
  @ApiUuid({ nullable: true }) publishedBy: string | null;
}

export class SopVersionDetailDto extends SopVersionDto {
  @ApiSchemaRef('SopDefinition', { description: 'What this version says (immutable)' }) definition: unknown;
  @ApiProperty({ description: 'Open enrollments on this version' }) openEnrollments: number;
}

export class VersionParams {
  @ApiProperty({ format: 'uuid' }) @IsUUID()
  id: string;

  @ApiProperty({ minimum: 1, maximum: 2147483647 }) @Type(() => Number) @IsInt() @Min(1) @Max(2147483647)
  version: number;
}

export class SopDto {
  @ApiUuid() id: string;
  @ApiProperty() name: string;
  @ApiProperty() description: string;
  @ApiProperty({ enum: ['journey', 'recurring', 'broadcast'] }) kind: string;
  @ApiProperty({ enum: SOP_STATUSES }) status: SopStatus;
  @ApiSchemaRef('SopDefinition', { description: 'The working copy (what the next activation or edit publishes)' }) definition: unknown;
  @ApiProperty({ nullable: true, type: Number, description: 'The version new enrollments get' }) currentVersion: number | null;
  @ApiProperty() createdAt: Date;
  @ApiProperty() updatedAt: Date;
}

export class SopListSummaryDto {
  @ApiProperty({ nullable: true, type: Number, description: "Contacts in the audience segment now (customer groups for group SOPs)" }) audience: number | null;
  @ApiProperty({ description: 'Active enrollments (journeys)' }) openEnrollments: number;
  @ApiProperty({ description: "Pending tasks due by the end of today in the SOP's zone and not overdue" }) tasksToday: number;
  @ApiProperty({ description: 'Pending tasks whose window has closed' }) tasksOverdue: number;
}

export class SopListItemDto extends SopDto {
  @ApiProperty({ type: SopListSummaryDto }) summary: SopListSummaryDto;
}

export class EnrollmentCountsDto {
  @ApiProperty() active: number;
  @ApiProperty() completed: number;
  @ApiProperty() exited: number;
}

export class SopDetailDto extends SopDto {
  @ApiProperty({ type: [SopVersionDto] }) versions: SopVersionDto[];
  @ApiProperty({ type: EnrollmentCountsDto, description: 'Enrollments by status' }) enrollments: EnrollmentCountsDto;
  @ApiFreeObject({ values: 'number', description: 'Tasks by status (pending, done, skipped, expired, cancelled; statuses without tasks left out)' })
  tasks: Record<string, number>;
}

export class ForecastDayDto {
  @ApiProperty({ format: 'date', example: '2026-11-24' }) date: string;
  @ApiUuid({ nullable: true, description: 'null: nobody resolved (e.g. contacts without owner)' }) executorId: string | null;
  @ApiProperty({ nullable: true, type: String }) executorName: string | null;
  @ApiProperty() tasks: number;
  @ApiProperty({ description: 'More than policies.executorDailyCapacity' }) overCapacity: boolean;
}

export class ForecastDto {
  @ApiProperty({ description: 'Contacts the SOP reaches now (current segment members)' }) reach: number;
  @ApiProperty({ description: 'Of them, how many would enter on activation (journeys: includeExistingMembers)' }) entering: number;
  @ApiProperty({ format: 'date', example: '2026-11-23' }) from: string;
  @ApiProperty({ example: '2026-12-22' }) to: string;
  @ApiProperty({ type: [ForecastDayDto], description: 'Expected tasks per day per executor (days without tasks left out)' })
  days: ForecastDayDto[];
  @ApiProperty({ type: [String], example: ['2026-11-24'], description: 'Days on which some executor is over capacity' }) overCapacityDays: string[];
  @ApiProperty({ description: 'What the forecast counts, in words' }) basis: string;
}

export class MigrateEnrollmentsDto {
  @ApiPropertyOptional({ description: 'Only enrollments on this version; all older versions when left out', minimum: 1, maximum: 2147483647 })
  @IsOptional() @IsInt() @Min(1) @Max(2147483647)
  fromVersion?: number;
}

export class MigratedDto {
  @ApiProperty({ description: 'Open enrollments moved (0 on a repeat)' }) migrated: number;
  @ApiProperty({ description: 'The version they are on now' }) toVersion: number;
}

export class PreviewScheduleDto {
  @ApiProperty({ example: 'FREQ=DAILY;BYHOUR=8;BYMINUTE=30', description: 'An RFC 5545 RRULE with BYHOUR and BYMINUTE, read in timezone' })
  @IsString() @MinLength(1) @MaxLength(500)
  rrule: string;

  @ApiProperty({ example: 'Asia/Shanghai' }) @IsTimeZone()
  timezone: string;

  @ApiPropertyOptional({ default: true, description: 'Skip days that are not working days (policies.businessDaysOnly)' })
  @IsOptional() @IsBoolean()
  businessDaysOnly?: boolean;

  @ApiPropertyOptional({ default: 10, minimum: 1, maximum: 50, description: 'How many occurrences that make tasks' })
  @IsOptional() @IsInt() @Min(1) @Max(50)
  count?: number;

  @ApiPropertyOptional({ description: 'Occurrences after this instant (default: now)' })
  @IsOptional() @IsISO8601({ strict: true })
  after?: string;
}

export class PlannedOccurrenceDto {
  @ApiProperty() at: Date;
  @ApiProperty({ example: '2026-12-07 08:30', description: "Wall-clock date and time in the SOP's zone" }) local: string;
  @ApiProperty({ minimum: 1, maximum: 7, description: '1 = Monday … 7 = Sunday' }) weekday: number;
  @ApiProperty({ type: CalendarDayDto }) day: CalendarDayDto;
  @ApiProperty({ description: 'false: skipped (business days only, and this is not one)' }) runs: boolean;
}

export class PlannedScheduleDto {
  @ApiProperty({ type: [PlannedOccurrenceDto], description: 'The next occurrences that make tasks, with the skipped days between them' })
  occurrences: PlannedOccurrenceDto[];
}

export class PreviewMessageDto {
  @ApiProperty({ example: '{{ contact.name }}，您好！我是{{ owner.name }}。' }) @IsString() @MinLength(1) @MaxLength(10_000)
  template: string;

  @ApiUuid({ description: 'The contact to render it for (one of the audience)' }) @IsUUID()
  contactId: string;

  @ApiPropertyOptional({ example: 'New customer welcome 新客欢迎' }) @IsOptional() @IsString() @MaxLength(200)
  sopName?: string;

  @ApiPropertyOptional({ example: 'Day 0 welcome' }) @IsOptional() @IsString() @MaxLength(200)
  stepName?: string;
}

export class PreviewContactDto {
  @ApiUuid() id: string;
  @ApiProperty() name: string;
}

export class RenderedMessageDto {
  @ApiProperty({ description: 'The message as the executor will see it' }) text: string;
  @ApiProperty({ type: PreviewContactDto }) contact: PreviewContactDto;
}

export class CheckSopDto {
  @ApiSchemaRef('SopDefinition', { description: 'The draft to check' }) @IsDefined()
  definition: unknown;

  @ApiPropertyOptional({ description: 'The SOP being edited (it may not hand over to itself)', format: 'uuid' }) @IsOptional() @IsUUID()
  sopId?: string;
}

export class SopCheckDto {
  @ApiProperty({ description: 'true: saving this definition would be accepted' }) valid: boolean;
  @ApiProperty({ type: [ErrorDetailDto], description: 'Each problem at its JSON path (definition.steps[0].window …), as a save would answer them' })
  problems: ErrorDetailDto[];
}

export class StepTaskCountsDto {
  @ApiProperty() pending: number;
  @ApiProperty() done: number;
  @ApiProperty() skipped: number;
  @ApiProperty() expired: number;
  @ApiProperty() cancelled: number;
  @ApiProperty({ description: 'Held back from every executor: its content could not be rendered (see held)' }) held: number;
}

export class ExitCountDto {
  @ApiProperty({ example: 'replied', description: "The enrollment's close reason: replied, bought, tag added, tag removed, left segment, SOP archived …" }) reason: string;
  @ApiProperty() contacts: number;
}

export class StepProgressDto {
  @ApiProperty({ description: "The step's position, from 0" }) index: number;
  @ApiProperty({ nullable: true, type: String, description: 'Its name in the current version (null for a step only an older version has)' }) name: string | null;
  @ApiProperty({ description: 'Contacts (or groups) that reached it: waiting for it plus its tasks' }) entered: number;
  @ApiProperty({ description: 'Open enrollments waiting for this step (journeys)' }) waiting: number;
  @ApiProperty({ description: 'Tasks made for it, whatever their status' }) tasksCreated: number;
  @ApiProperty({ type: StepTaskCountsDto }) tasks: StepTaskCountsDto;
  @ApiProperty({ type: [ExitCountDto], description: 'Enrollments that left while waiting for this step, by reason' }) exited: ExitCountDto[];
}

export class HeldCountDto {
  @ApiProperty({ example: 'the template could not be rendered: memory alloc limit exceeded, line:1, col:1', description: 'Why the tasks could not be made' }) reason: string;
  @ApiProperty({ nullable: true, type: Number, description: 'The SOP version whose template failed' }) version: number | null;
  @ApiProperty() tasks: number;
}

export class SopProgressDto {
  @ApiProperty({ enum: ['journey', 'recurring', 'broadcast'] }) kind: string;
  @ApiProperty({ enum: ['draft', 'active', 'paused', 'archived'] }) status: string;
  @ApiProperty({ nullable: true, type: Number }) currentVersion: number | null;
  @ApiProperty({ type: EnrollmentCountsDto }) enrollments: EnrollmentCountsDto;
  @ApiProperty({ type: [StepProgressDto] }) steps: StepProgressDto[];
  @ApiProperty({ type: [HeldCountDto], description: 'Tasks held because their content could not be rendered (no executor sees them), by version and reason, most first' })
  held: HeldCountDto[];
}
