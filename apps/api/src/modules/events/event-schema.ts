/**
 * The shapes of ingested events, checked one by one so a bad event is refused alone, naming its fields.
 * Paths are relative to the event (`data.amount`); the answer gives each event's index in the batch.
 */
import { type ErrorDetail, jsonTextProblems } from '@sop/domain';
import { z } from 'zod';

export const EVENT_TYPES = ['purchase', 'reply', 'group.joined', 'group.left', 'unsubscribed', 'contact.joined', 'custom'] as const;
export type EventType = (typeof EVENT_TYPES)[number];
export const MAX_BATCH = 500;
/** An event may say it happened a little ahead of our clock, not more. */
const FUTURE_SKEW_MS = 5 * 60_000;
const MAX_DATA_BYTES = 8_192;

const extras = z.record(z.string(), z.unknown()).refine((d) => JSON.stringify(d).length <= MAX_DATA_BYTES, `must be at most ${MAX_DATA_BYTES} bytes as JSON`);
const common = {
  id: z.string().trim().min(1).max(200),
  externalId: z.string().trim().min(1).max(200),
  occurredAt: z.iso.datetime({ offset: true }).optional()
    .refine((t) => t === undefined || Date.parse(t) <= Date.now() + FUTURE_SKEW_MS, 'must not be in the future'),
};

const schemas = {
  purchase: z.strictObject({ ...common, type: z.literal('purchase'), data: z.strictObject({
    orderId: z.string().trim().min(1).max(200),
    amount: z.number().min(0).max(999_999_999_999),
    currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as CNY'),
  }) }),
  reply: z.strictObject({ ...common, type: z.literal('reply'), data: extras.optional() }),
  'group.joined': z.strictObject({ ...common, type: z.literal('group.joined'), data: z.strictObject({ groupId: z.uuid() }) }),
  'group.left': z.strictObject({ ...common, type: z.literal('group.left'), data: z.strictObject({ groupId: z.uuid() }) }),
  unsubscribed: z.strictObject({ ...common, type: z.literal('unsubscribed'), data: extras.optional() }),
  'contact.joined': z.strictObject({ ...common, type: z.literal('contact.joined'), data: z.strictObject({
    code: z.string().min(1).max(64),
    name: z.string().max(200).optional(),
    phone: z.string().max(50).optional(),
    email: z.email().max(320).optional(),
  }) }),
  custom: z.strictObject({ ...common, type: z.literal('custom'), name: z.string().trim().min(1).max(100), data: extras.optional() }),
} satisfies Record<EventType, z.ZodType>;

export type IngestedEvent = { [K in EventType]: z.infer<(typeof schemas)[K]> }[EventType];

export type Parsed = { ok: true; event: IngestedEvent } | { ok: false; id: string | null; problems: ErrorDetail[] };

export function parseEvent(input: unknown): Parsed {
  const id = typeof (input as { id?: unknown })?.id === 'string' ? (input as { id: string }).id : null;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { ok: false, id, problems: [{ path: '', problem: 'must be an object' }] };
  const type = (input as { type?: unknown }).type;
  if (!EVENT_TYPES.includes(type as EventType)) {
    return { ok: false, id, problems: [{ path: 'type', problem: `must be one of ${EVENT_TYPES.join(', ')}` }] };
  }
  const parsed = schemas[type as EventType].safeParse(input);
  // Postgres text and jsonb cannot hold U+0000 or half a surrogate pair: storing one failed the whole batch with a 500
  const bad = parsed.success ? jsonTextProblems(parsed.data, '', 1)[0] : undefined;
  if (bad) return { ok: false, id, problems: [bad] };
  if (parsed.success) return { ok: true, event: parsed.data as IngestedEvent };
  return { ok: false, id, problems: parsed.error.issues.map((i) => ({ path: pathOf(i.path), problem: i.message })) };
}

/** The request body: `{ "events": [...] }`, a bare array, or one event. */
export function eventsOf(body: unknown): unknown[] | ErrorDetail {
  const list = Array.isArray(body) ? body
    : body && typeof body === 'object' && 'events' in body ? (body as { events: unknown }).events : body && typeof body === 'object' ? [body] : null;
  if (!Array.isArray(list)) return { path: 'events', problem: 'send one event object, an array of events, or { "events": [...] }' };
  if (!list.length) return { path: 'events', problem: 'must hold at least one event' };
  if (list.length > MAX_BATCH) return { path: 'events', problem: `at most ${MAX_BATCH} events per request (got ${list.length})` };
  return list;
}

const pathOf = (path: PropertyKey[]) => path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');
