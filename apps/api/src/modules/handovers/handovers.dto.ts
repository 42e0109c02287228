import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ApiUuid } from '../../common/openapi';
import { Transform } from 'class-transformer';
import { ArrayMinSize, ArrayUnique, IsArray, IsDateString, IsIn, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { PageQuery } from '../../common/pagination';

/** UUIDs compare as Postgres writes them: lower case. */
const Lower = () => Transform(({ value }) => (typeof value === 'string' ? value.toLowerCase() : value));

export const HANDOVER_SCOPES = ['contacts', 'groups', 'tasks'] as const;
export type HandoverScope = (typeof HANDOVER_SCOPES)[number];
export const LEAVE_POLICIES = ['reassign', 'defer'] as const;

export class CreateHandoverDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'Your id for this handover: sending it again answers the first result and moves nothing (an Idempotency-Key header works too)' })
  @IsOptional() @IsUUID() @Lower()
  id?: string;

  @ApiProperty({ format: 'uuid', description: 'Whose contacts, groups and open tasks move (may be a disabled user: someone who left)' })
  @IsUUID() @Lower()
  fromUserId: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'One active user who takes everything; or give toTeamId' })
  @IsOptional() @IsUUID() @Lower()
  toUserId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: "Spread evenly over this team's active members (a contact's tasks follow the contact)" })
  @IsOptional() @IsUUID() @Lower()
  toTeamId?: string;

  @ApiPropertyOptional({ enum: HANDOVER_SCOPES, isArray: true, default: HANDOVER_SCOPES, description: 'What moves: contacts, groups, open (pending) tasks' })
  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayUnique() @IsIn(HANDOVER_SCOPES, { each: true })
  scope?: HandoverScope[];

  @ApiPropertyOptional({ example: '离职交接 Left the company' }) @IsOptional() @IsString() @MaxLength(500)
  reason?: string;
}

export class HandoverCountsDto {
  @ApiProperty() contacts: number;
  @ApiProperty() groups: number;
  @ApiProperty({ description: 'Pending tasks given to someone else' }) tasks: number;
  @ApiProperty({ description: 'Pending tasks moved to the return from a leave' }) tasksDeferred: number;
}

export class HandoverDto {
  @ApiUuid() id: string;
  @ApiProperty({ enum: ['handover', 'leave'] }) kind: string;
  @ApiUuid({ nullable: true, description: 'The leave that caused it (kind leave)' }) leaveId: string | null;
  @ApiUuid() fromUserId: string;
  @ApiUuid({ nullable: true }) toUserId: string | null;
  @ApiUuid({ nullable: true }) toTeamId: string | null;
  @ApiProperty({ enum: HANDOVER_SCOPES, isArray: true }) scope: string[];
  @ApiProperty() reason: string;
  @ApiUuid({ nullable: true, description: 'Who did it (null for an API key)' }) actorId: string | null;
  @ApiUuid({ nullable: true }) apiKeyId: string | null;
  @ApiProperty({ type: HandoverCountsDto }) moved: HandoverCountsDto;
  @ApiProperty() createdAt: Date;
}

export class HandoverPageDto {
  @ApiProperty({ type: [HandoverDto] }) items: HandoverDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

export class HandoverQuery extends PageQuery {
  @ApiPropertyOptional({ format: 'uuid', description: 'Only handovers from or to this user' })
  @IsOptional() @IsUUID() @Lower()
  userId?: string;
}

export class CreateLeaveDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'Your id for this leave: sending it again answers the first result' })
  @IsOptional() @IsUUID() @Lower()
  id?: string;

  @ApiProperty({ format: 'date-time', example: '2026-12-01T00:00:00+08:00' }) @IsDateString({ strict: true }, { message: 'must be an ISO date-time' })
  startsAt: string;

  @ApiProperty({ format: 'date-time', example: '2026-12-08T00:00:00+08:00', description: 'The return (exclusive)' })
  @IsDateString({ strict: true }, { message: 'must be an ISO date-time' })
  endsAt: string;

  @ApiProperty({ enum: LEAVE_POLICIES, description: 'reassign: to toUserId or spread over toTeamId; defer: tasks wait for the return' })
  @IsIn(LEAVE_POLICIES)
  policy: (typeof LEAVE_POLICIES)[number];

  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() @Lower()
  toUserId?: string;

  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() @Lower()
  toTeamId?: string;

  @ApiPropertyOptional({ example: '年假 Annual leave' }) @IsOptional() @IsString() @MaxLength(500)
  reason?: string;
}

export class LeaveDto {
  @ApiUuid() id: string;
  @ApiUuid() userId: string;
  @ApiProperty() startsAt: Date;
  @ApiProperty() endsAt: Date;
  @ApiProperty({ enum: LEAVE_POLICIES }) policy: string;
  @ApiUuid({ nullable: true }) toUserId: string | null;
  @ApiUuid({ nullable: true }) toTeamId: string | null;
  @ApiProperty() reason: string;
  @ApiProperty() createdAt: Date;
  @ApiProperty({ nullable: true, type: HandoverDto, description: 'What recording it did to tasks already due during the leave' })
  handover: HandoverDto | null;
}

export class LeaveListDto {
  @ApiProperty({ type: [LeaveDto] }) items: LeaveDto[];
}
