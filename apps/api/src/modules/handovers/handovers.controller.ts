import { Body, Controller, Delete, Get, Headers, HttpCode, Post, Query, Res } from '@nestjs/common';
import {
  ApiBearerAuth, ApiCreatedResponse, ApiHeader, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags,
} from '@nestjs/swagger';
import type { HttpReply } from '../../common/http';
import { CurrentPrincipal, Roles, type Principal } from '../../common/principal';
import { idempotencyKey } from '../../common/idempotency';
import { ApiErrors, type ErrorRef } from '../../common/openapi';
import { IdParam } from '../../common/tenant-scope';
import { CreateHandoverDto, CreateLeaveDto, HandoverDto, HandoverPageDto, HandoverQuery, LeaveDto, LeaveListDto } from './handovers.dto';
import { HandoversService } from './handovers.service';
import { LeavesService } from './leaves.service';

/** Who the work goes to (handover-rules.ts recipients). */
const RECIPIENT_ERRORS: ErrorRef[] = [
  'SAME_USER', ['USER_NOT_FOUND', 422], 'TARGET_DISABLED', ['TEAM_NOT_FOUND', 422], 'TEAM_HAS_NO_ACTIVE_MEMBERS', 'OUTSIDE_YOUR_TEAM',
];

@ApiTags('handovers')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Roles('admin', 'ops', 'manager')
@Controller('handovers')
export class HandoversController {
  constructor(private readonly handovers: HandoversService) {}

  @Post()
  @ApiOperation({
    summary: "Move a user's contacts, groups and open tasks to another user or spread them over a team, in one operation with an audit record",
    description: 'Admins and ops for anyone in the organization; managers for members of the teams they manage. 201 when done, 200 when this id or Idempotency-Key was done before (nothing moves again).',
  })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Instead of an id in the body: a repeat answers the first result' })
  @ApiCreatedResponse({ type: HandoverDto, description: 'Done' })
  @ApiOkResponse({ type: HandoverDto, description: 'This id or Idempotency-Key was done before: its first result' })
  @ApiErrors(...RECIPIENT_ERRORS, 'HANDOVER_ID_REUSED', 'HANDOVER_ID_TAKEN')
  async create(
    @CurrentPrincipal() p: Principal, @Body() dto: CreateHandoverDto, @Res({ passthrough: true }) res: HttpReply,
    @Headers('idempotency-key') key?: string,
  ): Promise<HandoverDto> {
    const { created, handover } = await this.handovers.create(p, dto, idempotencyKey(key));
    res.status(created ? 201 : 200);
    return handover;
  }

  @Get()
  @ApiOperation({ summary: 'Handovers and leave reassignments, newest first (keyset pages); managers see their teams\'' })
  @ApiOkResponse({ type: HandoverPageDto })
  list(@CurrentPrincipal() p: Principal, @Query() q: HandoverQuery): Promise<HandoverPageDto> {
    return this.handovers.list(p, q);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One handover with what it moved' })
  @ApiOkResponse({ type: HandoverDto })
  @ApiErrors('HANDOVER_NOT_FOUND', 'OUTSIDE_YOUR_TEAM')
  get(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<HandoverDto> {
    return this.handovers.get(p, id);
  }
}

@ApiTags('handovers')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Roles('admin', 'ops', 'manager')
@Controller('users/:userId/leaves')
export class LeavesController {
  constructor(private readonly leaves: LeavesService) {}

  @Get()
  @ApiOperation({ summary: "A user's leaves, earliest first" })
  @ApiOkResponse({ type: LeaveListDto })
  @ApiErrors(['USER_NOT_FOUND', 404], 'OUTSIDE_YOUR_TEAM')
  async list(@CurrentPrincipal() p: Principal, @IdParam('userId') userId: string): Promise<LeaveListDto> {
    return { items: await this.leaves.list(p, userId) };
  }

  @Post()
  @ApiOperation({
    summary: 'Record a leave: pending tasks due during it are reassigned or deferred to the return now, and so are tasks the engine creates later',
    description: '201 when recorded, 200 when this id was recorded before. Admins and ops; managers for members of the teams they manage.',
  })
  @ApiCreatedResponse({ type: LeaveDto, description: 'Recorded' })
  @ApiOkResponse({ type: LeaveDto, description: 'This id was recorded before: the leave as it is' })
  @ApiErrors(['USER_NOT_FOUND', 404], ...RECIPIENT_ERRORS, 'LEAVE_ID_REUSED', 'LEAVE_ID_TAKEN', 'LEAVE_PERIOD_INVALID', 'LEAVE_OVERLAPS')
  async create(
    @CurrentPrincipal() p: Principal, @IdParam('userId') userId: string, @Body() dto: CreateLeaveDto, @Res({ passthrough: true }) res: HttpReply,
  ): Promise<LeaveDto> {
    const { created, leave } = await this.leaves.create(p, userId, dto);
    res.status(created ? 201 : 200);
    return leave;
  }

  @Delete(':leaveId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a leave: work created from now on is no longer covered; tasks already moved stay where they went' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(['USER_NOT_FOUND', 404], 'OUTSIDE_YOUR_TEAM', 'LEAVE_NOT_FOUND')
  remove(@CurrentPrincipal() p: Principal, @IdParam('userId') userId: string, @IdParam('leaveId') leaveId: string): Promise<void> {
    return this.leaves.remove(p, userId, leaveId);
  }
}
