import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ApiFreeObject } from '../../common/openapi';
import { EVENT_TYPES, MAX_BATCH } from './event-schema';

/** For the OpenAPI document: the service checks events one by one (event-schema.ts) so each is refused alone. */
export class EventDto {
  @ApiProperty({ example: 'order-2026-000123', description: 'Your id for the event: a repeat of it is answered duplicate and changes nothing' })
  id: string;

  @ApiProperty({ enum: EVENT_TYPES }) type: string;

  @ApiProperty({ example: 'wx_8812', description: 'The contact\'s external id' }) externalId: string;

  @ApiPropertyOptional({ format: 'date-time', example: '2026-11-23T08:30:00+08:00', description: 'When it happened (ISO 8601 with offset); now if left out' })
  occurredAt?: string;

  @ApiPropertyOptional({ example: 'coupon.redeemed', description: 'custom events: the name response rules match on' })
  name?: string;

  @ApiFreeObject({
    required: false,
    description: 'purchase: { orderId, amount, currency }; group.joined / group.left: { groupId }; contact.joined: { code, name?, phone?, email? }; ' +
      'reply, unsubscribed, custom: any object (kept with the response, at most 8 KB)',
    example: { orderId: 'SO-123', amount: 299, currency: 'CNY' },
  })
  data?: Record<string, unknown>;
}

export class EventBatchDto {
  @ApiProperty({ type: [EventDto], maxItems: MAX_BATCH, description: `1 to ${MAX_BATCH} events; one event object alone is accepted too` })
  events: EventDto[];
}

export class EventProblemDto {
  @ApiProperty({ example: 'data.amount', description: 'The field, relative to the event' }) path: string;
  @ApiProperty({ example: 'Too small: expected number to be >=0' }) problem: string;
}

export class EventResultDto {
  @ApiProperty({ description: 'Position of the event in the request' }) index: number;
  @ApiProperty({ nullable: true, type: String }) id: string | null;
  @ApiProperty({ enum: ['accepted', 'duplicate', 'rejected'] }) status: 'accepted' | 'duplicate' | 'rejected';
  @ApiPropertyOptional({ description: 'accepted: the response recorded' }) responseId?: string;
  @ApiPropertyOptional({ description: 'duplicate: why nothing changed' }) reason?: string;
  @ApiPropertyOptional({ type: [EventProblemDto], description: 'rejected: what to fix; nothing of the event was kept' }) problems?: EventProblemDto[];
}

export class EventBatchResultDto {
  @ApiProperty() accepted: number;
  @ApiProperty() duplicates: number;
  @ApiProperty() rejected: number;
  @ApiProperty({ type: [EventResultDto] }) results: EventResultDto[];
}
