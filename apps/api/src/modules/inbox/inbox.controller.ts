import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApiErrors, type ErrorRef } from '../../common/openapi';
import { ANY_ROLE, CurrentPrincipal, Roles, type Principal } from '../../common/principal';
import {
  BulkCompleteDto, BulkResultDto, CompleteDto, CountsDto, CountsQuery, InboxQuery, InboxSopDto, MaterialParams, ReassignDto, SkipDto, SnoozeDto,
  SopsQuery, TaskDetailDto, TaskDto,
  TaskPageDto,
} from './inbox.dto';
import { InboxService } from './inbox.service';

/** Refusals of a list or count: whose tasks the caller may see. */
const WHOSE_TASKS: ErrorRef[] = ['INBOX_NEEDS_A_USER', 'NOT_YOUR_TASKS', 'TASK_OUTSIDE_TEAM'];
/** Refusals of an action on one task (bulk completion reports them per task in its answer instead). */
const TASK_ACTION: ErrorRef[] = ['INBOX_NEEDS_A_USER', 'TASK_NOT_FOUND', 'TASK_OUTSIDE_TEAM', 'TASK_NOT_PENDING'];

@ApiTags('inbox')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Roles(...ANY_ROLE)
@Controller('inbox')
export class InboxController {
  constructor(private readonly inbox: InboxService) {}

  @Get('tasks')
  @ApiOperation({ summary: 'Your tasks (managers: also your teams\'): today, overdue, upcoming or done, filtered, keyset pages' })
  @ApiOkResponse({ type: TaskPageDto })
  @ApiErrors(...WHOSE_TASKS)
  list(@CurrentPrincipal() p: Principal, @Query() q: InboxQuery): Promise<TaskPageDto> {
    return this.inbox.list(p, q);
  }

  @Get('counts')
  @ApiOperation({ summary: 'How many tasks are in each list, under the same filters as the list' })
  @ApiOkResponse({ type: CountsDto })
  @ApiErrors(...WHOSE_TASKS)
  counts(@CurrentPrincipal() p: Principal, @Query() q: CountsQuery): Promise<CountsDto> {
    return this.inbox.counts(p, q);
  }

  @Get('sops')
  @ApiOperation({ summary: 'The SOPs with pending tasks in this inbox, most tasks first (the SOP filter\'s choices; employees cannot list SOPs otherwise)' })
  @ApiOkResponse({ type: [InboxSopDto] })
  @ApiErrors(...WHOSE_TASKS)
  sops(@CurrentPrincipal() p: Principal, @Query() q: SopsQuery): Promise<InboxSopDto[]> {
    return this.inbox.sops(p, q.executorId);
  }

  @Post('tasks/complete')
  @HttpCode(200)
  @ApiOperation({ summary: 'Complete many tasks with one outcome (e.g. a post to many groups); each is refused or done on its own' })
  @ApiOkResponse({ type: BulkResultDto })
  bulkComplete(@CurrentPrincipal() p: Principal, @Body() dto: BulkCompleteDto): Promise<BulkResultDto> {
    return this.inbox.bulkComplete(p, dto);
  }

  @Get('tasks/:id')
  @ApiOperation({ summary: "A task with the contact's tags and its history" })
  @ApiOkResponse({ type: TaskDetailDto })
  @ApiErrors('INBOX_NEEDS_A_USER', 'TASK_NOT_FOUND', 'TASK_OUTSIDE_TEAM')
  @ApiParam({ name: 'id', description: 'A task id', schema: { type: 'string', pattern: '^\\d{1,18}$' } })
  detail(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<TaskDetailDto> {
    return this.inbox.detail(p, id);
  }

  @Post('tasks/:id/complete')
  @HttpCode(200)
  @ApiOperation({ summary: 'Done, with an outcome and a note (repeating it changes nothing)' })
  @ApiOkResponse({ type: TaskDto })
  @ApiErrors(...TASK_ACTION, 'INVALID_OUTCOME')
  @ApiParam({ name: 'id', description: 'A task id', schema: { type: 'string', pattern: '^\\d{1,18}$' } })
  complete(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() dto: CompleteDto): Promise<TaskDto> {
    return this.inbox.complete(p, id, dto);
  }

  @Post('tasks/:id/skip')
  @HttpCode(200)
  @ApiOkResponse({ type: TaskDto })
  @ApiErrors(...TASK_ACTION)
  @ApiParam({ name: 'id', description: 'A task id', schema: { type: 'string', pattern: '^\\d{1,18}$' } })
  skip(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() dto: SkipDto): Promise<TaskDto> {
    return this.inbox.skip(p, id, dto);
  }

  @Post('tasks/:id/snooze')
  @HttpCode(200)
  @ApiOkResponse({ type: TaskDto })
  @ApiErrors(...TASK_ACTION, 'SNOOZE_IN_PAST')
  @ApiParam({ name: 'id', description: 'A task id', schema: { type: 'string', pattern: '^\\d{1,18}$' } })
  snooze(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() dto: SnoozeDto): Promise<TaskDto> {
    return this.inbox.snooze(p, id, dto);
  }

  @Post('tasks/:id/materials/:index/copied')
  @HttpCode(204)
  @ApiOperation({ summary: 'The executor copied this material\'s tracked link: opens within 30 s are its link preview and are not counted' })
  @ApiNoContentResponse({ description: 'Noted' })
  @ApiErrors('INBOX_NEEDS_A_USER', 'TASK_NOT_FOUND', 'TASK_OUTSIDE_TEAM', 'LINK_NOT_FOUND')
  linkCopied(@CurrentPrincipal() p: Principal, @Param() params: MaterialParams): Promise<void> {
    return this.inbox.linkCopied(p, params.id, params.index);
  }

  @Post('tasks/:id/reassign')
  @HttpCode(200)
  @ApiOperation({ summary: 'Hand the task to a teammate (managers: anyone in the teams they manage)' })
  @ApiOkResponse({ type: TaskDto })
  @ApiErrors(...TASK_ACTION, 'EXECUTOR_NOT_FOUND', 'REASSIGN_NOT_ALLOWED')
  @ApiParam({ name: 'id', description: 'A task id', schema: { type: 'string', pattern: '^\\d{1,18}$' } })
  reassign(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() dto: ReassignDto): Promise<TaskDto> {
    return this.inbox.reassign(p, id, dto);
  }
}
