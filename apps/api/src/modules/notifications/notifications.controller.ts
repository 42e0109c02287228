import { Controller, Get, Headers, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { HttpReply, HttpRequest } from '../../common/http';
import { ApiErrors, ApiTextResponse } from '../../common/openapi';
import { ANY_ROLE, CurrentPrincipal, Public, Roles, type Principal } from '../../common/principal';
import { NotificationStream } from './notification-stream.service';
import {
  NotificationDto, NotificationPageDto, NotificationsQuery, ReadAllDto, StreamTicketDto, UnreadCountDto,
} from './notifications.dto';
import { NotificationsService } from './notifications.service';
import { StreamTickets } from './stream-tickets.service';

@ApiTags('notifications')
@ApiBearerAuth()
@Controller('notifications')
export class NotificationsController {
  constructor(
    private readonly notifications: NotificationsService,
    private readonly stream: NotificationStream,
    private readonly tickets: StreamTickets,
  ) {}

  @Get()
  @Roles(...ANY_ROLE)
  @ApiOperation({ summary: 'Your notifications, newest first, keyset pages; ?unread=true for the unread ones' })
  @ApiOkResponse({ type: NotificationPageDto })
  @ApiErrors('NOTIFICATIONS_NEED_A_USER')
  list(@CurrentPrincipal() p: Principal, @Query() q: NotificationsQuery): Promise<NotificationPageDto> {
    return this.notifications.list(p, q);
  }

  @Get('unread-count')
  @Roles(...ANY_ROLE)
  @ApiOperation({ summary: 'How many of your notifications are unread' })
  @ApiOkResponse({ type: UnreadCountDto })
  @ApiErrors('NOTIFICATIONS_NEED_A_USER')
  async unreadCount(@CurrentPrincipal() p: Principal): Promise<UnreadCountDto> {
    return { unread: await this.notifications.unreadCount(p) };
  }

  @Post('read-all')
  @HttpCode(200)
  @Roles(...ANY_ROLE)
  @ApiOperation({ summary: 'Mark all of yours read (repeating it changes nothing)' })
  @ApiOkResponse({ type: ReadAllDto })
  @ApiErrors('NOTIFICATIONS_NEED_A_USER')
  async readAll(@CurrentPrincipal() p: Principal): Promise<ReadAllDto> {
    return { updated: await this.notifications.markAllRead(p) };
  }

  @Post(':id/read')
  @HttpCode(200)
  @Roles(...ANY_ROLE)
  @ApiOperation({ summary: 'Mark one read (repeating it keeps the first read time); another person\'s answers 404' })
  @ApiOkResponse({ type: NotificationDto })
  @ApiErrors('NOTIFICATIONS_NEED_A_USER', 'NOTIFICATION_NOT_FOUND')
  @ApiParam({ name: 'id', description: 'A notification id', schema: { type: 'string', pattern: '^\\d{1,18}$' } })
  markRead(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<NotificationDto> {
    return this.notifications.markRead(p, id);
  }

  @Post('stream-tickets')
  @HttpCode(201)
  @Roles(...ANY_ROLE)
  @ApiOperation({ summary: 'A one-minute ticket for the live stream (a browser EventSource cannot send the Authorization header)' })
  @ApiCreatedResponse({ type: StreamTicketDto })
  @ApiErrors('NOTIFICATIONS_NEED_A_USER')
  ticket(@CurrentPrincipal() p: Principal): StreamTicketDto {
    const { ticket, expiresAt } = this.tickets.issue(p);
    return { ticket, expiresAt, streamPath: `/api/notifications/stream?ticket=${encodeURIComponent(ticket)}` };
  }

  /** Public at the guard: it authenticates itself, by ticket or by the usual headers. */
  @Get('stream')
  @Public()
  @ApiOperation({ summary: 'Live notifications (server-sent events: `notification` events with the notification as data, id = its id; `: ping` every 15 s)' })
  @ApiQuery({ name: 'ticket', required: false, description: 'From POST /api/notifications/stream-tickets; or send Authorization: Bearer' })
  @ApiTextResponse('text/event-stream', 'An event stream; Last-Event-ID replays what came after that id')
  @ApiErrors('UNAUTHENTICATED', 'NOTIFICATIONS_NEED_A_USER')
  async open(
    @Query('ticket') ticket: string | undefined, @Headers('last-event-id') lastEventId: string | undefined, @Req() req: HttpRequest, @Res() res: HttpReply,
  ): Promise<void> {
    const caller = await this.tickets.authenticate(ticket, req.headers);
    await this.stream.open(caller.tenantId, caller.userId, res, lastEventId);
  }
}
