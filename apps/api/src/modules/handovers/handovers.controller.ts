import { Body, Controller, Delete, Get, Headers, HttpCode, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, Roles, type Principal } from '../../common/principal';
import { IdParam } from '../../common/tenant-scope';
import { CreateHandoverDto, CreateLeaveDto, HandoverDto, HandoverPageDto, HandoverQuery, LeaveDto, LeaveListDto } from './handovers.dto';
import { HandoversService } from './handovers.service';
import { LeavesService } from './leaves.service';

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
  async create(
    @CurrentPrincipal() p: Principal, @Body() dto: CreateHandoverDto, @Res({ passthrough: true }) res: Response,
    @Headers('idempotency-key') key?: string,
  ): Promise<HandoverDto> {
    const { created, handover } = await this.handovers.create(p, dto, key);
    res.status(created ? 201 : 200);
    return handover;
  }

  @Get()
  @ApiOperation({ summary: 'Handovers and leave reassignments, newest first (keyset pages); managers see their teams\'' })
  list(@CurrentPrincipal() p: Principal, @Query() q: HandoverQuery): Promise<HandoverPageDto> {
    return this.handovers.list(p, q);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One handover with what it moved' })
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
  async list(@CurrentPrincipal() p: Principal, @IdParam('userId') userId: string): Promise<LeaveListDto> {
    return { items: await this.leaves.list(p, userId) };
  }

  @Post()
  @ApiOperation({
    summary: 'Record a leave: pending tasks due during it are reassigned or deferred to the return now, and so are tasks the engine creates later',
    description: '201 when recorded, 200 when this id was recorded before. Admins and ops; managers for members of the teams they manage.',
  })
  async create(
    @CurrentPrincipal() p: Principal, @IdParam('userId') userId: string, @Body() dto: CreateLeaveDto, @Res({ passthrough: true }) res: Response,
  ): Promise<LeaveDto> {
    const { created, leave } = await this.leaves.create(p, userId, dto);
    res.status(created ? 201 : 200);
    return leave;
  }

  @Delete(':leaveId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a leave: work created from now on is no longer covered; tasks already moved stay where they went' })
  remove(@CurrentPrincipal() p: Principal, @IdParam('userId') userId: string, @IdParam('leaveId') leaveId: string): Promise<void> {
    return this.leaves.remove(p, userId, leaveId);
  }
}
