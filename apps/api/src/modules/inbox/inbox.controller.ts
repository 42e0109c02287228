import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ANY_ROLE, CurrentPrincipal, Roles, type Principal } from '../../common/principal';
import {
  BulkCompleteDto, BulkResultDto, CompleteDto, CountsDto, CountsQuery, InboxQuery, ReassignDto, SkipDto, SnoozeDto, TaskDetailDto, TaskDto,
  TaskPageDto,
} from './inbox.dto';
import { InboxService } from './inbox.service';

@ApiTags('inbox')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Roles(...ANY_ROLE)
@Controller('inbox')
export class InboxController {
  constructor(private readonly inbox: InboxService) {}

  @Get('tasks')
  @ApiOperation({ summary: 'Your tasks (managers: also your teams\'): today, overdue, upcoming or done, filtered, keyset pages' })
  list(@CurrentPrincipal() p: Principal, @Query() q: InboxQuery): Promise<TaskPageDto> {
    return this.inbox.list(p, q);
  }

  @Get('counts')
  @ApiOperation({ summary: 'How many tasks are in each list' })
  counts(@CurrentPrincipal() p: Principal, @Query() q: CountsQuery): Promise<CountsDto> {
    return this.inbox.counts(p, q.executorId, q.tz);
  }

  @Post('tasks/complete')
  @HttpCode(200)
  @ApiOperation({ summary: 'Complete many tasks with one outcome (e.g. a post to many groups); each is refused or done on its own' })
  bulkComplete(@CurrentPrincipal() p: Principal, @Body() dto: BulkCompleteDto): Promise<BulkResultDto> {
    return this.inbox.bulkComplete(p, dto);
  }

  @Get('tasks/:id')
  @ApiOperation({ summary: "A task with the contact's tags and its history" })
  detail(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<TaskDetailDto> {
    return this.inbox.detail(p, id);
  }

  @Post('tasks/:id/complete')
  @HttpCode(200)
  @ApiOperation({ summary: 'Done, with an outcome and a note (repeating it changes nothing)' })
  complete(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() dto: CompleteDto): Promise<TaskDto> {
    return this.inbox.complete(p, id, dto);
  }

  @Post('tasks/:id/skip')
  @HttpCode(200)
  skip(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() dto: SkipDto): Promise<TaskDto> {
    return this.inbox.skip(p, id, dto);
  }

  @Post('tasks/:id/snooze')
  @HttpCode(200)
  snooze(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() dto: SnoozeDto): Promise<TaskDto> {
    return this.inbox.snooze(p, id, dto);
  }

  @Post('tasks/:id/reassign')
  @HttpCode(200)
  @ApiOperation({ summary: 'Hand the task to a teammate (managers: anyone in the teams they manage)' })
  reassign(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() dto: ReassignDto): Promise<TaskDto> {
    return this.inbox.reassign(p, id, dto);
  }
}
