import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUUID, Matches, MaxLength, Min, MinLength } from 'class-validator';
import { ApiUuid } from '../../common/openapi';

const Lower = () => Transform(({ value }) => (typeof value === 'string' ? value.toLowerCase() : value));
const DAY = /^\d{4}-\d{2}-\d{2}$/;

export const GRANULARITIES = ['day', 'week'] as const;
export type Granularity = (typeof GRANULARITIES)[number];
export const FORMATS = ['csv', 'xlsx'] as const;
export const LANGS = ['zh', 'en'] as const;
export type Lang = (typeof LANGS)[number];

export class RangeQuery {
  @ApiPropertyOptional({ format: 'date', example: '2026-11-05', description: "First day, in the organization's zone (default: 29 days before `to`)" })
  @IsOptional() @Matches(DAY, { message: 'must be a date YYYY-MM-DD' })
  from?: string;

  @ApiPropertyOptional({ format: 'date', example: '2026-12-04', description: "Last day, included (default: today in the organization's zone); at most 366 days after `from`" })
  @IsOptional() @Matches(DAY, { message: 'must be a date YYYY-MM-DD' })
  to?: string;

  @ApiPropertyOptional({ enum: GRANULARITIES, default: 'day', description: 'Trend points per day or per ISO week (Monday first)' })
  @IsOptional() @IsIn(GRANULARITIES)
  granularity: Granularity = 'day';
}

export class TeamQuery extends RangeQuery {
  @ApiPropertyOptional({ format: 'uuid', description: 'One team; default: every team the caller may see (a manager: the teams they manage)' })
  @IsOptional() @IsUUID() @Lower()
  teamId?: string;
}

export const EMPLOYEE_SORTS = ['name', 'done', 'completionRate', 'onTimeRate', 'overdueNow', 'responseRate', 'created', 'expired'] as const;
export class EmployeesQuery extends TeamQuery {
  @ApiPropertyOptional({ enum: EMPLOYEE_SORTS, default: 'overdueNow' }) @IsOptional() @IsIn(EMPLOYEE_SORTS)
  sort: (typeof EMPLOYEE_SORTS)[number] = 'overdueNow';

  @ApiPropertyOptional({ enum: ['asc', 'desc'], default: 'desc' }) @IsOptional() @IsIn(['asc', 'desc'])
  order: 'asc' | 'desc' = 'desc';
}

export class WeekQuery {
  @ApiPropertyOptional({ format: 'date', example: '2026-12-04', description: "Any day of the ISO week (Monday to Sunday) to show; default: this week in the organization's zone" })
  @IsOptional() @Matches(DAY, { message: 'must be a date YYYY-MM-DD' })
  week?: string;
}

export const CUTS = ['team', 'employee', 'sop', 'version', 'step', 'variant', 'channel', 'day', 'week'] as const;
export type Cut = (typeof CUTS)[number];
export class CutQuery extends RangeQuery {
  @ApiProperty({ enum: CUTS, description: 'Rows by this; managers: team, employee, day or week' }) @IsIn(CUTS)
  by: Cut;

  @ApiPropertyOptional({ format: 'uuid', description: 'Only this team (team, employee, day, week cuts)' }) @IsOptional() @IsUUID() @Lower()
  teamId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Only this SOP (sop, version, step, variant, channel, day, week cuts)' }) @IsOptional() @IsUUID() @Lower()
  sopId?: string;
}

export class TeamExportQuery extends TeamQuery {
  @ApiPropertyOptional({ enum: FORMATS, default: 'csv' }) @IsOptional() @IsIn(FORMATS) format: (typeof FORMATS)[number] = 'csv';
  @ApiPropertyOptional({ enum: LANGS }) @IsOptional() @IsIn(LANGS) lang?: Lang;
}
export class EmployeesExportQuery extends EmployeesQuery {
  @ApiPropertyOptional({ enum: FORMATS, default: 'csv' }) @IsOptional() @IsIn(FORMATS) format: (typeof FORMATS)[number] = 'csv';
  @ApiPropertyOptional({ enum: LANGS }) @IsOptional() @IsIn(LANGS) lang?: Lang;
}
export class RangeExportQuery extends RangeQuery {
  @ApiPropertyOptional({ enum: FORMATS, default: 'csv' }) @IsOptional() @IsIn(FORMATS) format: (typeof FORMATS)[number] = 'csv';
  @ApiPropertyOptional({ enum: LANGS }) @IsOptional() @IsIn(LANGS) lang?: Lang;
}
export class CutExportQuery extends CutQuery {
  @ApiPropertyOptional({ enum: FORMATS, default: 'csv' }) @IsOptional() @IsIn(FORMATS) format: (typeof FORMATS)[number] = 'csv';
  @ApiPropertyOptional({ enum: LANGS }) @IsOptional() @IsIn(LANGS) lang?: Lang;
}
export const SOP_PARTS = ['funnel', 'exits', 'variants'] as const;
export class SopExportQuery extends RangeExportQuery {
  @ApiPropertyOptional({ enum: SOP_PARTS, default: 'funnel', description: 'CSV: which table; .xlsx holds all three, one sheet each' })
  @IsOptional() @IsIn(SOP_PARTS)
  part: (typeof SOP_PARTS)[number] = 'funnel';
}

export class MeasuresDto {
  @ApiProperty({ description: 'Tasks whose window opens in the period' }) created: number;
  @ApiProperty() done: number;
  @ApiProperty() skipped: number;
  @ApiProperty() expired: number;
  @ApiProperty() cancelled: number;
  @ApiProperty({ description: 'Still pending (window open, overdue, or not yet open)' }) pending: number;
  @ApiProperty({ type: Number, nullable: true, description: 'Pending with the window closed, right now (not period-bound); null for a previous period' })
  overdueNow: number | null;
  @ApiProperty({ description: 'Window closed and not cancelled: done + skipped + expired + overdue' }) closed: number;
  @ApiProperty({ type: Number, nullable: true, description: 'done / closed' }) completionRate: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'done inside the window / done' }) onTimeRate: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Median minutes from window start to done (exact to its histogram bucket)' })
  medianMinutesToDone: number | null;
  @ApiProperty({ description: 'Done tasks with at least one attributed response' }) responded: number;
  @ApiProperty({ type: Number, nullable: true, description: 'responded / done' }) responseRate: number | null;
  @ApiProperty({ description: 'Done tasks with at least one attributed purchase' }) converted: number;
  @ApiProperty({ type: Number, nullable: true, description: 'converted / done' }) conversionRate: number | null;
  @ApiProperty({ description: 'Attributed purchases' }) purchases: number;
  @ApiProperty({ description: 'Attributed revenue' }) revenue: number;
}

export class ChangeDto {
  @ApiProperty({ type: Number, nullable: true, description: 'Current minus previous rate (0.05 = 5 percentage points)' }) completionRate: number | null;
  @ApiProperty({ type: Number, nullable: true }) onTimeRate: number | null;
  @ApiProperty({ type: Number, nullable: true }) responseRate: number | null;
  @ApiProperty({ type: Number, nullable: true }) conversionRate: number | null;
  @ApiProperty({ description: 'Current minus previous done count' }) done: number;
  @ApiProperty({ type: Number, nullable: true, description: 'Always null: how many were overdue at the end of a past period is not kept' })
  overdueNow: number | null;
}

export class RangeDto {
  @ApiProperty({ format: 'date', example: '2026-11-05' }) from: string;
  @ApiProperty({ format: 'date', example: '2026-12-04' }) to: string;
  @ApiProperty({ format: 'date', example: '2026-10-06', description: 'The previous period of the same length, for the changes' }) previousFrom: string;
  @ApiProperty({ format: 'date', example: '2026-11-04' }) previousTo: string;
  @ApiProperty({ example: 'Asia/Shanghai', description: "The organization's zone: the days of every figure" }) zone: string;
  @ApiProperty({ enum: GRANULARITIES }) granularity: string;
}

export class TrendPointDto {
  @ApiProperty({ example: '2026-12-01', description: 'The day, or the Monday of the week' }) period: string;
  @ApiProperty({ type: MeasuresDto }) measures: MeasuresDto;
}

export class TeamCardDto {
  @ApiUuid() teamId: string;
  @ApiProperty() teamName: string;
  @ApiUuid({ nullable: true }) managerId: string | null;
  @ApiProperty({ description: 'Members now' }) members: number;
  @ApiProperty({ type: MeasuresDto }) current: MeasuresDto;
  @ApiProperty({ type: MeasuresDto }) previous: MeasuresDto;
  @ApiProperty({ type: ChangeDto }) change: ChangeDto;
}

export class TeamDashboardDto {
  @ApiProperty({ type: RangeDto }) range: RangeDto;
  @ApiProperty({ type: [TeamCardDto] }) teams: TeamCardDto[];
  @ApiProperty({ type: MeasuresDto, description: 'All the teams shown, together' }) current: MeasuresDto;
  @ApiProperty({ type: MeasuresDto }) previous: MeasuresDto;
  @ApiProperty({ type: ChangeDto }) change: ChangeDto;
  @ApiProperty({ type: [TrendPointDto], description: 'All the teams shown, per day or week of the period' }) trend: TrendPointDto[];
}

export class EmployeeRowDto extends MeasuresDto {
  @ApiUuid() userId: string;
  @ApiProperty() name: string;
  @ApiProperty({ example: 'employee' }) role: string;
  @ApiUuid({ nullable: true }) teamId: string | null;
  @ApiProperty({ type: String, nullable: true }) teamName: string | null;
}

export class EmployeesDto {
  @ApiProperty({ type: RangeDto }) range: RangeDto;
  @ApiProperty({ type: [EmployeeRowDto], description: "Sorted as asked; drill down with GET /api/inbox/tasks?list=overdue&executorId=…" })
  items: EmployeeRowDto[];
}

export class WeekDayDto {
  @ApiProperty({ example: '2026-12-01' }) day: string;
  @ApiProperty() created: number;
  @ApiProperty() done: number;
  @ApiProperty() doneOnTime: number;
  @ApiProperty() responded: number;
}

export class MyWeekDto {
  @ApiProperty({ type: RangeDto, description: 'This ISO week (Monday to Sunday) and the one before' }) range: RangeDto;
  @ApiProperty({ type: MeasuresDto }) current: MeasuresDto;
  @ApiProperty({ type: MeasuresDto }) previous: MeasuresDto;
  @ApiProperty({ type: ChangeDto }) change: ChangeDto;
  @ApiProperty({ type: [WeekDayDto] }) days: WeekDayDto[];
}

export class SopResultRowDto extends MeasuresDto {
  @ApiUuid() sopId: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: ['journey', 'recurring', 'broadcast'] }) kind: string;
  @ApiProperty({ enum: ['draft', 'active', 'paused', 'archived'] }) status: string;
}

export class SopResultsDto {
  @ApiProperty({ type: RangeDto }) range: RangeDto;
  @ApiProperty({ type: [SopResultRowDto], description: 'SOPs with tasks in the period, most tasks first' }) items: SopResultRowDto[];
}

export class FunnelStepDto {
  @ApiProperty() stepIndex: number;
  @ApiProperty() stepName: string;
  @ApiProperty({ description: 'Reached the step: a task was created, or the contact left the SOP while waiting for it' }) entered: number;
  @ApiProperty() created: number;
  @ApiProperty() done: number;
  @ApiProperty() responded: number;
  @ApiProperty() converted: number;
}

export class ExitDto {
  @ApiProperty({ example: 'replied', description: 'Why the enrollment ended (an exit condition, left segment, archived, …)' }) reason: string;
  @ApiProperty({ description: 'The step the contact was waiting for' }) stepIndex: number;
  @ApiProperty() count: number;
}

export class VariantResultDto {
  @ApiProperty({ example: 'A' }) variant: string;
  @ApiProperty({ description: 'Done tasks that showed this variant: the trials' }) done: number;
  @ApiProperty() responded: number;
  @ApiProperty({ type: Number, nullable: true }) responseRate: number | null;
  @ApiProperty({ type: [Number], description: '95% Wilson interval of the response rate' }) responseInterval: number[];
  @ApiProperty({ description: 'Probability that this variant has the best response rate (Beta posteriors, uniform priors)' }) probabilityBestResponse: number;
  @ApiProperty() converted: number;
  @ApiProperty({ type: Number, nullable: true }) conversionRate: number | null;
  @ApiProperty({ type: [Number] }) conversionInterval: number[];
  @ApiProperty() probabilityBestConversion: number;
  @ApiProperty({ description: 'Still offered by the current version' }) current: boolean;
}

export class StepVariantsDto {
  @ApiProperty() stepIndex: number;
  @ApiProperty() stepName: string;
  @ApiProperty({ type: [VariantResultDto] }) variants: VariantResultDto[];
}

export class SopSummaryDto {
  @ApiUuid() id: string;
  @ApiProperty() name: string;
  @ApiProperty() kind: string;
  @ApiProperty() status: string;
  @ApiProperty({ type: Number, nullable: true }) currentVersion: number | null;
}

export class SopResultDto {
  @ApiProperty({ type: RangeDto }) range: RangeDto;
  @ApiProperty({ type: SopSummaryDto }) sop: SopSummaryDto;
  @ApiProperty({ type: MeasuresDto }) current: MeasuresDto;
  @ApiProperty({ type: MeasuresDto }) previous: MeasuresDto;
  @ApiProperty({ type: ChangeDto }) change: ChangeDto;
  @ApiProperty({ type: [FunnelStepDto] }) funnel: FunnelStepDto[];
  @ApiProperty({ type: [ExitDto] }) exits: ExitDto[];
  @ApiProperty({ type: [StepVariantsDto], description: 'Steps that had variants in the period' }) variants: StepVariantsDto[];
  @ApiProperty({ type: [TrendPointDto] }) trend: TrendPointDto[];
}

export class CutRowDto extends MeasuresDto {
  @ApiProperty({ example: '2f0c…', description: 'What the row is: an id, "sopId:step", "sopId:step:variant", a channel or a day' }) key: string;
  @ApiProperty({ example: '上海门店', description: 'A name to show' }) label: string;
}

export class CutDto {
  @ApiProperty({ type: RangeDto }) range: RangeDto;
  @ApiProperty({ enum: CUTS }) by: string;
  @ApiProperty({ type: [CutRowDto] }) rows: CutRowDto[];
}

export class ChooseVariantDto {
  @ApiProperty({ example: 'B', description: 'The variant that becomes the step\'s only content' })
  @IsString() @MinLength(1) @MaxLength(50)
  variant: string;
}

export class StepParams {
  @ApiProperty({ format: 'uuid', description: 'The SOP' }) @IsUUID() @Lower()
  id: string;

  @ApiProperty({ description: 'The step, from 0' }) @Type(() => Number) @IsInt() @Min(0)
  stepIndex: number;
}
