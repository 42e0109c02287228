import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsDefined, IsIn, IsInt, IsOptional, IsString, MaxLength, Min, MinLength } from 'class-validator';

export const SOP_STATUSES = ['draft', 'active', 'paused', 'archived'] as const;
export type SopStatus = (typeof SOP_STATUSES)[number];

const DEFINITION_DOC =
  '{ kind: journey|recurring|broadcast, timezone, audience: { segmentId } | { groups }, entry?, schedule?: { rrule }, sendAt?, ' +
  'steps: [{ name, offsetDays?, window?: { start, end }, dueWithinMinutes?, channel, content: { template, materials?, variants? }, ' +
  'executor: { rule, userId?, teamId? }, reminder? }], policies? }. See docs/sops.md.';

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

  @ApiProperty({ description: DEFINITION_DOC, example: EXAMPLE }) @IsDefined()
  definition: unknown;
}

export class UpdateSopDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @MinLength(1) @MaxLength(200)
  name?: string;

  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(2000)
  description?: string;

  @ApiPropertyOptional({ description: `${DEFINITION_DOC} On an active or paused SOP this publishes a new version.` }) @IsOptional()
  definition?: unknown;
}

export class ListSopsQuery {
  @ApiPropertyOptional({ enum: SOP_STATUSES }) @IsOptional() @IsIn(SOP_STATUSES)
  status?: SopStatus;
}

export class SopVersionDto {
  @ApiProperty() version: number;
  @ApiProperty() publishedAt: Date;
  @ApiProperty({ nullable: true, type: String }) publishedBy: string | null;
}

export class SopDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty() description: string;
  @ApiProperty({ enum: ['journey', 'recurring', 'broadcast'] }) kind: string;
  @ApiProperty({ enum: SOP_STATUSES }) status: SopStatus;
  @ApiProperty({ type: Object, description: 'The working copy (what the next activation or edit publishes)' }) definition: unknown;
  @ApiProperty({ nullable: true, type: Number, description: 'The version new enrollments get' }) currentVersion: number | null;
  @ApiProperty() createdAt: Date;
  @ApiProperty() updatedAt: Date;
}

export class SopDetailDto extends SopDto {
  @ApiProperty({ type: [SopVersionDto] }) versions: SopVersionDto[];
  @ApiProperty({ description: 'Enrollments by status' }) enrollments: { active: number; completed: number; exited: number };
  @ApiProperty({ description: 'Tasks by status' }) tasks: Record<string, number>;
}

export class ForecastDayDto {
  @ApiProperty({ example: '2026-11-24' }) date: string;
  @ApiProperty({ nullable: true, type: String, description: 'null: nobody resolved (e.g. contacts without owner)' }) executorId: string | null;
  @ApiProperty({ nullable: true, type: String }) executorName: string | null;
  @ApiProperty() tasks: number;
  @ApiProperty({ description: 'More than policies.executorDailyCapacity' }) overCapacity: boolean;
}

export class ForecastDto {
  @ApiProperty({ description: 'Contacts the SOP reaches now (current segment members)' }) reach: number;
  @ApiProperty({ description: 'Of them, how many would enter on activation (journeys: includeExistingMembers)' }) entering: number;
  @ApiProperty({ example: '2026-11-23' }) from: string;
  @ApiProperty({ example: '2026-12-22' }) to: string;
  @ApiProperty({ type: [ForecastDayDto], description: 'Expected tasks per day per executor (days without tasks left out)' })
  days: ForecastDayDto[];
  @ApiProperty({ description: 'Days on which some executor is over capacity' }) overCapacityDays: string[];
  @ApiProperty({ description: 'What the forecast counts, in words' }) basis: string;
}

export class MigrateEnrollmentsDto {
  @ApiPropertyOptional({ description: 'Only enrollments on this version; all older versions when left out' })
  @IsOptional() @IsInt() @Min(1)
  fromVersion?: number;
}
