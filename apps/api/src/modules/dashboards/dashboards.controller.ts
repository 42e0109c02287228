import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { HttpReply } from '../../common/http';
import { ApiErrors } from '../../common/openapi';
import { CurrentPrincipal, Roles, type Principal } from '../../common/principal';
import { IdParam } from '../../common/tenant-scope';
import { SopDto } from '../sops/sops.dto';
import { type Column, measureColumns, sendSheets, XLSX_TYPE } from './dashboard-export';
import {
  ChooseVariantDto, CutDto, CutExportQuery, CutQuery, type CutRowDto, EmployeesDto, EmployeesExportQuery, EmployeesQuery, type EmployeeRowDto,
  type ExitDto, type FunnelStepDto, MyWeekDto, RangeExportQuery, RangeQuery, SopExportQuery, SopResultDto, SopResultsDto, type SopResultRowDto,
  StepParams, TeamDashboardDto, TeamExportQuery, TeamQuery, WeekQuery, type TeamCardDto,
} from './dashboards.dto';
import { DashboardsService } from './dashboards.service';

/** A CSV or .xlsx download. */
const ApiFile = () => ApiResponse({
  status: 200, description: 'The table as CSV (UTF-8 with BOM) or .xlsx, headers in Chinese or English',
  content: { 'text/csv': { schema: { type: 'string' } }, [XLSX_TYPE]: { schema: { type: 'string', format: 'binary' } } },
});

const RANGE_ERRORS = ['DASHBOARD_RANGE_INVALID'] as const;
const TEAM_ERRORS = [...RANGE_ERRORS, 'DASHBOARD_NEEDS_A_USER', 'TEAM_NOT_MANAGED', ['TEAM_NOT_FOUND', 404]] as const;

const flat = <T extends { current: object; change: object }>(r: T) => ({ ...r, ...r.current });

@ApiTags('dashboards')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Controller('dashboards')
export class DashboardsController {
  constructor(private readonly dashboards: DashboardsService) {}

  @Get('teams')
  @Roles('admin', 'ops', 'manager')
  @ApiOperation({
    summary: 'Team cards (this period, the previous one and the change) and the trend: the manager dashboard in one request',
    description: 'Managers see the teams they manage; admins and ops every team. Days are in the organization\'s zone.',
  })
  @ApiOkResponse({ type: TeamDashboardDto })
  @ApiErrors(...TEAM_ERRORS)
  teams(@CurrentPrincipal() p: Principal, @Query() q: TeamQuery): Promise<TeamDashboardDto> {
    return this.dashboards.teams(p, q);
  }

  @Get('teams/export')
  @Roles('admin', 'ops', 'manager')
  @ApiOperation({ summary: 'The team cards as CSV or .xlsx' })
  @ApiFile()
  @ApiErrors(...TEAM_ERRORS)
  async teamsExport(@CurrentPrincipal() p: Principal, @Query() q: TeamExportQuery, @Res() res: HttpReply): Promise<void> {
    const [data, lang] = await Promise.all([this.dashboards.teams(p, q), this.dashboards.language(p, q.lang)]);
    const columns: Column<TeamCardDto & Record<string, unknown>>[] = [
      { zh: '团队', en: 'Team', value: (r) => r.teamName },
      { zh: '成员', en: 'Members', value: (r) => r.members },
      ...measureColumns(),
      { zh: '完成率变化', en: 'Completion rate change', value: (r) => r.change.completionRate, rate: true },
      { zh: '准时率变化', en: 'On-time rate change', value: (r) => r.change.onTimeRate, rate: true },
      { zh: '回应率变化', en: 'HttpReply rate change', value: (r) => r.change.responseRate, rate: true },
    ];
    await sendSheets(res, q.format, `teams-${data.range.from}-${data.range.to}`,
      [{ name: { zh: '团队', en: 'Teams' }, columns, rows: data.teams.map(flat) }], lang);
  }

  @Get('employees')
  @Roles('admin', 'ops', 'manager')
  @ApiOperation({
    summary: 'Employees with their figures and overdue counts, sorted; drill down with GET /api/inbox/tasks?list=overdue&executorId=…',
    description: 'Managers: the members of the teams they manage; admins and ops: everyone (or one team).',
  })
  @ApiOkResponse({ type: EmployeesDto })
  @ApiErrors(...TEAM_ERRORS)
  employees(@CurrentPrincipal() p: Principal, @Query() q: EmployeesQuery): Promise<EmployeesDto> {
    return this.dashboards.employees(p, q);
  }

  @Get('employees/export')
  @Roles('admin', 'ops', 'manager')
  @ApiOperation({ summary: 'The employees table as CSV or .xlsx' })
  @ApiFile()
  @ApiErrors(...TEAM_ERRORS)
  async employeesExport(@CurrentPrincipal() p: Principal, @Query() q: EmployeesExportQuery, @Res() res: HttpReply): Promise<void> {
    const [data, lang] = await Promise.all([this.dashboards.employees(p, q), this.dashboards.language(p, q.lang)]);
    const columns: Column<EmployeeRowDto & Record<string, unknown>>[] = [
      { zh: '员工', en: 'Employee', value: (r) => r.name },
      { zh: '团队', en: 'Team', value: (r) => r.teamName },
      ...measureColumns(),
    ];
    await sendSheets(res, q.format, `employees-${data.range.from}-${data.range.to}`,
      [{ name: { zh: '员工', en: 'Employees' }, columns, rows: data.items as (EmployeeRowDto & Record<string, unknown>)[] }], lang);
  }

  @Get('my-week')
  @Roles('admin', 'ops', 'manager', 'employee')
  @ApiOperation({ summary: "The caller's own week (Monday to Sunday): done, on time, responses, with the week before" })
  @ApiOkResponse({ type: MyWeekDto })
  @ApiErrors(...RANGE_ERRORS, 'DASHBOARD_NEEDS_A_USER')
  myWeek(@CurrentPrincipal() p: Principal, @Query() q: WeekQuery): Promise<MyWeekDto> {
    return this.dashboards.myWeek(p, q);
  }

  @Get('sops')
  @Roles('admin', 'ops')
  @ApiOperation({ summary: 'Every SOP with tasks in the period and its figures (tenant-wide)' })
  @ApiOkResponse({ type: SopResultsDto })
  @ApiErrors(...RANGE_ERRORS)
  sops(@CurrentPrincipal() p: Principal, @Query() q: RangeQuery): Promise<SopResultsDto> {
    return this.dashboards.sopResults(p, q);
  }

  @Get('sops/export')
  @Roles('admin', 'ops')
  @ApiOperation({ summary: 'The SOP results table as CSV or .xlsx' })
  @ApiFile()
  @ApiErrors(...RANGE_ERRORS)
  async sopsExport(@CurrentPrincipal() p: Principal, @Query() q: RangeExportQuery, @Res() res: HttpReply): Promise<void> {
    const [data, lang] = await Promise.all([this.dashboards.sopResults(p, q), this.dashboards.language(p, q.lang)]);
    const columns: Column<SopResultRowDto & Record<string, unknown>>[] = [
      { zh: 'SOP', en: 'SOP', value: (r) => r.name },
      { zh: '类型', en: 'Kind', value: (r) => r.kind },
      { zh: '状态', en: 'Status', value: (r) => r.status },
      ...measureColumns(),
    ];
    await sendSheets(res, q.format, `sop-results-${data.range.from}-${data.range.to}`,
      [{ name: { zh: 'SOP 效果', en: 'SOP results' }, columns, rows: data.items as (SopResultRowDto & Record<string, unknown>)[] }], lang);
  }

  @Get('sops/:id')
  @Roles('admin', 'ops')
  @ApiOperation({ summary: "One SOP's results: figures with change, funnel per step, exits by reason, variant comparison and trend, in one request" })
  @ApiOkResponse({ type: SopResultDto })
  @ApiErrors(...RANGE_ERRORS, 'SOP_NOT_FOUND')
  sop(@CurrentPrincipal() p: Principal, @IdParam() id: string, @Query() q: RangeQuery): Promise<SopResultDto> {
    return this.dashboards.sopResult(p, id, q);
  }

  @Get('sops/:id/export')
  @Roles('admin', 'ops')
  @ApiOperation({ summary: "One SOP's funnel, exits or variants as CSV (`part`), or all three as sheets of one .xlsx" })
  @ApiFile()
  @ApiErrors(...RANGE_ERRORS, 'SOP_NOT_FOUND')
  async sopExport(@CurrentPrincipal() p: Principal, @IdParam() id: string, @Query() q: SopExportQuery, @Res() res: HttpReply): Promise<void> {
    const [data, lang] = await Promise.all([this.dashboards.sopResult(p, id, q), this.dashboards.language(p, q.lang)]);
    const funnel = { name: { zh: '漏斗', en: 'Funnel' }, rows: data.funnel, columns: [
      { zh: '步骤序号', en: 'Step', value: (r: FunnelStepDto) => r.stepIndex + 1 },
      { zh: '步骤', en: 'Step name', value: (r: FunnelStepDto) => r.stepName },
      { zh: '进入', en: 'Entered', value: (r: FunnelStepDto) => r.entered },
      { zh: '创建任务', en: 'Task created', value: (r: FunnelStepDto) => r.created },
      { zh: '已完成', en: 'Done', value: (r: FunnelStepDto) => r.done },
      { zh: '有回应', en: 'Responded', value: (r: FunnelStepDto) => r.responded },
      { zh: '转化', en: 'Converted', value: (r: FunnelStepDto) => r.converted },
    ] };
    const exits = { name: { zh: '退出原因', en: 'Exits' }, rows: data.exits, columns: [
      { zh: '原因', en: 'Reason', value: (r: ExitDto) => r.reason },
      { zh: '等待的步骤', en: 'Waiting for step', value: (r: ExitDto) => r.stepIndex + 1 },
      { zh: '人数', en: 'Count', value: (r: ExitDto) => r.count },
    ] };
    type V = SopResultDto['variants'][number]['variants'][number] & { stepIndex: number; stepName: string };
    const variants = { name: { zh: '版本对比', en: 'Variants' },
      rows: data.variants.flatMap((s) => s.variants.map((v): V => ({ ...v, stepIndex: s.stepIndex, stepName: s.stepName }))), columns: [
        { zh: '步骤序号', en: 'Step', value: (r: V) => r.stepIndex + 1 },
        { zh: '步骤', en: 'Step name', value: (r: V) => r.stepName },
        { zh: '变体', en: 'Variant', value: (r: V) => r.variant },
        { zh: '已完成', en: 'Done', value: (r: V) => r.done },
        { zh: '有回应', en: 'Responded', value: (r: V) => r.responded },
        { zh: '回应率', en: 'HttpReply rate', value: (r: V) => r.responseRate, rate: true },
        { zh: '回应率下限（95%）', en: 'HttpReply rate low (95%)', value: (r: V) => r.responseInterval[0], rate: true },
        { zh: '回应率上限（95%）', en: 'HttpReply rate high (95%)', value: (r: V) => r.responseInterval[1], rate: true },
        { zh: '回应率最佳概率', en: 'P(best response)', value: (r: V) => r.probabilityBestResponse, rate: true },
        { zh: '转化', en: 'Converted', value: (r: V) => r.converted },
        { zh: '转化率', en: 'Conversion rate', value: (r: V) => r.conversionRate, rate: true },
        { zh: '转化率下限（95%）', en: 'Conversion rate low (95%)', value: (r: V) => r.conversionInterval[0], rate: true },
        { zh: '转化率上限（95%）', en: 'Conversion rate high (95%)', value: (r: V) => r.conversionInterval[1], rate: true },
        { zh: '转化率最佳概率', en: 'P(best conversion)', value: (r: V) => r.probabilityBestConversion, rate: true },
        { zh: '当前版本在用', en: 'In the current version', value: (r: V) => r.current },
      ] };
    const parts = { funnel, exits, variants };
    await sendSheets(res, q.format, `sop-${id}-${q.format === 'csv' ? q.part : 'results'}-${data.range.from}-${data.range.to}`,
      q.format === 'csv' ? [parts[q.part]] : [funnel, exits, variants], lang);
  }

  @Post('sops/:id/steps/:stepIndex/winner')
  @Roles('admin', 'ops')
  @HttpCode(200)
  @ApiOperation({
    summary: "Make a variant the step's only content: the SOP's definition loses the step's variants and, when active or paused, publishes a new version",
    description: 'Enrollments already on an older version keep it (move them with POST /api/sops/{id}/migrate-enrollments).',
  })
  @ApiOkResponse({ type: SopDto })
  @ApiErrors('SOP_NOT_FOUND', 'STEP_NOT_FOUND', 'STEP_HAS_NO_VARIANTS', 'VARIANT_NOT_FOUND', 'SOP_ARCHIVED', 'BROADCAST_PUBLISHED', 'SOP_INVALID', 'TEMPORAL_UNAVAILABLE')
  chooseVariant(
    @CurrentPrincipal() p: Principal, @Param() params: StepParams, @Body() dto: ChooseVariantDto,
  ): Promise<SopDto> {
    return this.dashboards.chooseVariant(p, params.id, params.stepIndex, dto.variant);
  }

  @Get('cuts')
  @Roles('admin', 'ops', 'manager')
  @ApiOperation({
    summary: 'Figures cut by team, employee, SOP, SOP version, step, variant, channel, day or week',
    description: 'Team cuts (team, employee; day and week with teamId) read the executor rollup; SOP cuts (sop, version, step, variant, channel; day and week with sopId) the SOP rollup. Managers: team cuts of their teams only.',
  })
  @ApiOkResponse({ type: CutDto })
  @ApiErrors(...TEAM_ERRORS, 'CUT_NOT_ALLOWED', 'CUT_FILTER_INVALID', 'SOP_NOT_FOUND')
  cuts(@CurrentPrincipal() p: Principal, @Query() q: CutQuery): Promise<CutDto> {
    return this.dashboards.cut(p, q);
  }

  @Get('cuts/export')
  @Roles('admin', 'ops', 'manager')
  @ApiOperation({ summary: 'A cut as CSV or .xlsx' })
  @ApiFile()
  @ApiErrors(...TEAM_ERRORS, 'CUT_NOT_ALLOWED', 'CUT_FILTER_INVALID', 'SOP_NOT_FOUND')
  async cutsExport(@CurrentPrincipal() p: Principal, @Query() q: CutExportQuery, @Res() res: HttpReply): Promise<void> {
    const [data, lang] = await Promise.all([this.dashboards.cut(p, q), this.dashboards.language(p, q.lang)]);
    const columns: Column<CutRowDto & Record<string, unknown>>[] = [
      { zh: '维度', en: 'Key', value: (r) => r.key },
      { zh: '名称', en: 'Name', value: (r) => r.label },
      ...measureColumns(),
    ];
    await sendSheets(res, q.format, `cut-${q.by}-${data.range.from}-${data.range.to}`,
      [{ name: { zh: '分组', en: 'Cut' }, columns, rows: data.rows as (CutRowDto & Record<string, unknown>)[] }], lang);
  }
}
