/**
 * What an SOP says: WHO (audience), WHEN (trigger, schedule or send time, step offsets and windows),
 * WHERE (channel), WHAT (content) and WHO DOES IT (executor), plus its policies. The zod schema
 * checks shape; validate.ts adds the checks that need the tenant's data or cross fields.
 */
import { z } from 'zod';
import { UUID_PATTERN } from '../ids';

export const SOP_KINDS = ['journey', 'recurring', 'broadcast'] as const;
export const CHANNELS = [
  'wecom_chat', 'group_chat', 'moments', 'official_account', 'mini_program', 'video_channel',
  'sms', 'email', 'phone_call', 'offline_visit', 'other',
] as const;
export const EXIT_ON = ['replied', 'bought', 'tagAdded', 'tagRemoved', 'leftSegment'] as const;
/** Outbox events a journey can start on: a contact arriving through a channel code, or changing. */
export const ENTRY_EVENTS = ['contact.joined', 'contact.updated', 'contact.tags_changed'] as const;
export const MAX_STEPS = 20;
/** Channels a step may hand to WeCom (wecomMassSend): 1:1 chats and groups by add_msg_template, Moments by add_moment_task. */
export const WECOM_MASS_SEND_CHANNELS = ['wecom_chat', 'group_chat', 'moments'] as const;
/** WeCom's limit: a customer receives at most this many enterprise 1:1 mass-sends per calendar month (per corporation). */
export const WECOM_MASS_SENDS_PER_MONTH = 4;
/**
 * WeCom's limits on a mass-send's attachments (add_msg_template: at most 9 of any kind; add_moment_task: at most 9
 * images, or one link, never both) and on an uploaded image (media/upload, media/upload_attachment: at most 10 MB,
 * jpg or png).
 */
export const WECOM_ATTACHMENT_LIMITS = { template: 9, momentImages: 9, momentLinks: 1, imageBytes: 10 * 1024 * 1024, imageTypes: ['jpg', 'png'] } as const;
export const MAX_OFFSET_DAYS = 365;

export type SopKind = (typeof SOP_KINDS)[number];
export type Channel = (typeof CHANNELS)[number];

const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time of day as HH:MM (00:00 to 23:59)');
const id = z.string().regex(UUID_PATTERN, 'must be a UUID')
  .transform((s) => s.toLowerCase());
const ids = z.array(id).max(1000);
const template = z.string().min(1, 'must not be empty').max(10_000);

export const windowSchema = z.strictObject({ start: clock, end: clock });

/** zod runs refinements even after `z.url()` failed: an unparsable URL is that check's problem, not this one's. */
function noCredentials(url: string): boolean {
  try {
    const parsed = new URL(url);
    return !parsed.username && !parsed.password;
  } catch {
    return true;
  }
}

/** A material's address: http(s), no credentials; https is checked against the tenant's setting (validate.ts, the library). */
export const materialUrlSchema = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2000)
  // a customer's phone would show or send the credentials
  .refine(noCredentials, 'must not carry a user name or password (user:pass@)');

const materialSchema = z.strictObject({
  /** picked from the material library: the API copies the library's title, URL and tags in at every save and publish */
  materialId: id.optional(),
  title: z.string().min(1).max(200),
  url: materialUrlSchema,
  tagIds: ids.default([]),
  /** set by the API for a picked library material that is an image: a WeCom mass-send attaches it as an image, not a link */
  kind: z.literal('image').optional(),
  /** copied by the API from a picked library material's cover: a WeCom Moments link is posted with it (link.media_id) */
  coverUrl: materialUrlSchema.optional(),
});

const variantSchema = z.strictObject({
  name: z.string().min(1).max(50),
  weight: z.number().int().min(1).max(100),
  template,
});

const executorSchema = z.discriminatedUnion('rule', [
  z.strictObject({ rule: z.literal('contactOwner') }),
  z.strictObject({ rule: z.literal('groupOwner') }),
  z.strictObject({ rule: z.literal('user'), userId: id }),
  z.strictObject({ rule: z.literal('roundRobin'), teamId: id }),
], { error: 'must be one of contactOwner, groupOwner, user (with userId), roundRobin (with teamId)' });

export const stepSchema = z.strictObject({
  name: z.string().min(1).max(200),
  /** journey: calendar days after entry (a non-working day moves to the next working day) */
  offsetDays: z.number().int().min(0).max(MAX_OFFSET_DAYS).optional(),
  /** journey: the due window, wall-clock in the contact's timezone */
  window: windowSchema.optional(),
  /** recurring and broadcast: how long after the occurrence the task is due */
  dueWithinMinutes: z.number().int().min(5).max(7 * 24 * 60).optional(),
  channel: z.enum(CHANNELS),
  content: z.strictObject({
    template,
    materials: z.array(materialSchema).max(20).default([]),
    variants: z.array(variantSchema).min(2).max(5).optional(),
  }),
  executor: executorSchema,
  /**
   * wecom_chat, group_chat, moments: hand the step's tasks to WeCom as an enterprise mass-send (or a Moments
   * task) that the executor confirms in WeCom; the tasks complete with outcome `sent` for what WeCom reports
   * sent. A customer receives at most WECOM_MASS_SENDS_PER_MONTH such 1:1 sends a calendar month.
   */
  wecomMassSend: z.boolean().optional(),
  reminder: z.strictObject({
    dueSoonMinutes: z.number().int().min(1).max(24 * 60).optional(),
    overdueEscalationMinutes: z.number().int().min(1).max(7 * 24 * 60).optional(),
    /** a mandatory reminder cannot be switched off in a user's preferences */
    mandatory: z.boolean().default(false),
  }).default({ mandatory: false }),
});

const exitSchema = z.discriminatedUnion('on', [
  z.strictObject({ on: z.literal('replied') }),
  z.strictObject({ on: z.literal('bought') }),
  z.strictObject({ on: z.literal('tagAdded'), tagId: id }),
  z.strictObject({ on: z.literal('tagRemoved'), tagId: id }),
  z.strictObject({ on: z.literal('leftSegment') }),
], { error: `must be one of ${EXIT_ON.join(', ')} (tagAdded and tagRemoved need tagId)` });

export const policiesSchema = z.strictObject({
  /** skip public holidays and weekends, work make-up days (the tenant's business calendar) */
  businessDaysOnly: z.boolean().default(true),
  /** no task window inside these hours of the contact's (or, for groups, the SOP's) timezone */
  quietHours: windowSchema.optional(),
  /** which SOP yields when a contact's cap is reached: the lower priority one */
  priority: z.number().int().min(0).max(100).default(50),
  executorDailyCapacity: z.number().int().min(1).max(10_000).optional(),
  overflow: z.enum(['defer', 'reassign']).default('defer'),
  exitOn: z.array(exitSchema).max(20).default([]),
  onFinish: z.strictObject({
    addTagIds: ids.default([]),
    removeTagIds: ids.default([]),
    handoverSopId: id.optional(),
  }).default({ addTagIds: [], removeTagIds: [] }),
}).default({ businessDaysOnly: true, priority: 50, overflow: 'defer', exitOn: [], onFinish: { addTagIds: [], removeTagIds: [] } });

export const audienceSchema = z.union([
  z.strictObject({ segmentId: id }),
  z.strictObject({ groups: z.strictObject({ ownerUserIds: ids.optional(), ownerTeamIds: ids.optional() }) }),
], { error: 'must be { segmentId } or { groups: { ownerUserIds?, ownerTeamIds? } }' });

export const definitionSchema = z.strictObject({
  kind: z.enum(SOP_KINDS),
  /** IANA zone for the schedule and send time (and for group tasks); contacts keep their own */
  timezone: z.string().min(1).default('Asia/Shanghai'),
  audience: audienceSchema,
  /** journey: whether current segment members enter on activation, and whether a contact may enter again */
  entry: z.strictObject({
    includeExistingMembers: z.boolean().default(false),
    reentry: z.enum(['never', 'afterExit']).default('never'),
    /** enter on this event (for contacts in the audience segment then) instead of on entering the segment */
    event: z.enum(ENTRY_EVENTS).optional(),
  }).default({ includeExistingMembers: false, reentry: 'never' }),
  /** recurring: an RFC 5545 RRULE with BYHOUR and BYMINUTE, read in `timezone` */
  schedule: z.strictObject({ rrule: z.string().min(1).max(500) }).optional(),
  /** broadcast: when, as an ISO date-time with offset */
  sendAt: z.iso.datetime({ offset: true, error: 'must be an ISO date-time with a UTC offset' }).optional(),
  steps: z.array(stepSchema).min(1, 'an SOP needs at least one step').max(MAX_STEPS),
  policies: policiesSchema,
});

export type SopDefinition = z.output<typeof definitionSchema>;
/** A definition as written (defaults not yet applied): what a client sends. */
export type SopDefinitionInput = z.input<typeof definitionSchema>;

/**
 * The definition's schema for OpenAPI (the API publishes it, so the console's generated client types
 * definitions from the same zod schema the API checks them with). Ids document lowercase; any case is taken.
 */
export const sopDefinitionOpenApiSchema = (): Record<string, unknown> =>
  z.toJSONSchema(definitionSchema, { io: 'input', target: 'openapi-3.0', unrepresentable: 'any' }) as Record<string, unknown>;
export type SopStep = SopDefinition['steps'][number];
export type SopMaterial = SopStep['content']['materials'][number];
export type Window = z.output<typeof windowSchema>;
export type Executor = SopStep['executor'];

/** Tags and segments a definition refers to: they may not be deleted while it does. */
export function sopReferences(def: SopDefinition): { tagIds: string[]; segmentIds: string[] } {
  const tags = new Set<string>([...def.policies.onFinish.addTagIds, ...def.policies.onFinish.removeTagIds]);
  for (const e of def.policies.exitOn) if (e.on === 'tagAdded' || e.on === 'tagRemoved') tags.add(e.tagId);
  for (const step of def.steps) for (const m of step.content.materials) m.tagIds.forEach((t) => tags.add(t));
  return { tagIds: [...tags], segmentIds: 'segmentId' in def.audience ? [def.audience.segmentId] : [] };
}
