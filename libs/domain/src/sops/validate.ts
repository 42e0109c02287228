import { AppError, type ErrorDetail } from '../errors';
import { clipToQuietHours, recurrenceProblems } from './cadence';
import { definitionSchema, type SopDefinition, type SopStep, WECOM_ATTACHMENT_LIMITS, WECOM_MASS_SEND_CHANNELS } from './definition';
import { templateProblems } from './template';

/** What the tenant has, so references can be checked. Ids are lowercase. */
export interface SopContext {
  segmentIds: ReadonlySet<string>;
  userIds: ReadonlySet<string>;
  teamIds: ReadonlySet<string>;
  tagIds: ReadonlySet<string>;
  /** tag id -> its group's id, for tags of exclusive groups */
  exclusiveGroupOf?: ReadonlyMap<string, string>;
  sopIds: ReadonlySet<string>;
  /** the journeys among sopIds: only a journey can take a hand-over */
  journeyIds?: ReadonlySet<string>;
  /** the SOP being checked, when it exists: it may not hand over to itself */
  selfId?: string;
  /** the tenant lets materials link over plain http (tenants.allow_http_materials); https only otherwise */
  allowHttpMaterials?: boolean;
  now: Date;
}

const ROOT = 'definition';

/** `['steps', 0, 'window']` -> `definition.steps[0].window` */
export const jsonPath = (parts: readonly PropertyKey[], root = ROOT): string =>
  parts.reduce<string>((p, k) => (typeof k === 'number' ? `${p}[${k}]` : `${p}.${String(k)}`), root);

export const sopInvalid = (details: ErrorDetail[]): AppError =>
  new AppError('SOP_INVALID', 422, details.map((d) => `${d.path}: ${d.problem}`).join('; '), details);

/** Checks an SOP definition's shape and meaning; throws 422 SOP_INVALID naming every problem's JSON path. */
export function validateSop(input: unknown, ctx: SopContext): SopDefinition {
  const parsed = definitionSchema.safeParse(input);
  if (!parsed.success) {
    throw sopInvalid(parsed.error.issues.map((i) => ({ path: jsonPath(i.path), problem: i.message })));
  }
  const errors = meaningProblems(parsed.data, ctx);
  if (errors.length) throw sopInvalid(errors);
  return parsed.data;
}

function meaningProblems(def: SopDefinition, ctx: SopContext): ErrorDetail[] {
  const errors: ErrorDetail[] = [];
  const fail = (parts: PropertyKey[], problem: string) => errors.push({ path: jsonPath(parts), problem });
  const known = (set: ReadonlySet<string>, value: string | undefined, parts: PropertyKey[], what: string) => {
    if (value !== undefined && !set.has(value)) fail(parts, `unknown ${what} ${value}`);
  };

  if (!isTimeZone(def.timezone)) fail(['timezone'], 'is not an IANA time zone such as Asia/Shanghai');
  const forGroups = 'groups' in def.audience;
  if ('segmentId' in def.audience) known(ctx.segmentIds, def.audience.segmentId, ['audience', 'segmentId'], 'segment');
  else {
    def.audience.groups.ownerUserIds?.forEach((u, i) => known(ctx.userIds, u, ['audience', 'groups', 'ownerUserIds', i], 'user'));
    def.audience.groups.ownerTeamIds?.forEach((t, i) => known(ctx.teamIds, t, ['audience', 'groups', 'ownerTeamIds', i], 'team'));
  }
  if (def.kind === 'journey' && forGroups) fail(['audience'], 'a journey enrolls contacts: give a segmentId');
  if (def.kind !== 'journey' && def.entry.event) fail(['entry', 'event'], 'only journeys enroll on events');
  if (def.entry.event && def.entry.includeExistingMembers) fail(['entry', 'includeExistingMembers'], 'a journey that starts on an event enrolls only on that event');

  if (def.kind === 'recurring') {
    if (!def.schedule) fail(['schedule'], 'a recurring SOP needs schedule.rrule');
    else for (const p of recurrenceProblems(def.schedule.rrule, isTimeZone(def.timezone) ? def.timezone : 'UTC', ctx.now)) fail(['schedule', 'rrule'], p);
  } else if (def.schedule) fail(['schedule'], `only recurring SOPs have a schedule`);
  if (def.kind === 'broadcast') {
    if (!def.sendAt) fail(['sendAt'], 'a broadcast needs sendAt');
    else if (new Date(def.sendAt) <= ctx.now) fail(['sendAt'], 'is in the past');
  } else if (def.sendAt) fail(['sendAt'], 'only broadcasts have sendAt');

  def.steps.forEach((step, i) => stepProblems(def, step, ctx, forGroups).forEach(([parts, p]) => fail(['steps', i, ...parts], p)));

  const pol = def.policies;
  pol.exitOn.forEach((e, i) => {
    if (e.on === 'tagAdded' || e.on === 'tagRemoved') known(ctx.tagIds, e.tagId, ['policies', 'exitOn', i, 'tagId'], 'tag');
    if (e.on === 'leftSegment' && forGroups) fail(['policies', 'exitOn', i], 'leftSegment needs a segment audience');
  });
  const groupsAdded = new Set<string>();
  pol.onFinish.addTagIds.forEach((t, i) => {
    known(ctx.tagIds, t, ['policies', 'onFinish', 'addTagIds', i], 'tag');
    if (pol.onFinish.removeTagIds.includes(t)) fail(['policies', 'onFinish', 'addTagIds', i], 'is also in removeTagIds');
    const group = ctx.exclusiveGroupOf?.get(t);
    if (group && groupsAdded.has(group)) fail(['policies', 'onFinish', 'addTagIds', i], 'a second tag of the same exclusive group');
    if (group) groupsAdded.add(group);
  });
  pol.onFinish.removeTagIds.forEach((t, i) => known(ctx.tagIds, t, ['policies', 'onFinish', 'removeTagIds', i], 'tag'));
  const handover = pol.onFinish.handoverSopId;
  if (handover !== undefined) {
    const path = ['policies', 'onFinish', 'handoverSopId'];
    if (handover === ctx.selfId) fail(path, 'an SOP cannot hand over to itself');
    else if (!ctx.sopIds.has(handover)) fail(path, `unknown SOP ${handover}`);
    else if (ctx.journeyIds && !ctx.journeyIds.has(handover)) fail(path, 'only a journey can take a hand-over');
  }
  if (pol.overflow === 'reassign' && pol.executorDailyCapacity === undefined) {
    fail(['policies', 'overflow'], 'reassign needs executorDailyCapacity');
  }
  return errors;
}

/**
 * What WeCom would refuse in the attachments of the steps handed to it (WECOM_ATTACHMENT_LIMITS), said at save rather
 * than at hand-over. Run on the definition with the library's materials copied in (which images are is the library's
 * word), so after withLibraryMaterials.
 */
export function wecomAttachmentProblems(def: SopDefinition): ErrorDetail[] {
  return def.steps.flatMap((step, s) => (step.wecomMassSend && (WECOM_MASS_SEND_CHANNELS as readonly string[]).includes(step.channel)
    ? stepAttachmentProblems(step).map(([parts, problem]) => ({ path: jsonPath(['steps', s, ...parts]), problem })) : []));
}

function stepAttachmentProblems(step: SopStep): [PropertyKey[], string][] {
  const materials = step.content.materials;
  const images = materials.filter((m) => m.kind === 'image').length;
  const links = materials.length - images;
  const at: PropertyKey[] = ['content', 'materials'];
  if (step.channel !== 'moments') {
    return materials.length > WECOM_ATTACHMENT_LIMITS.template
      ? [[at, `WeCom takes at most ${WECOM_ATTACHMENT_LIMITS.template} attachments in a mass-send (${materials.length} given)`]] : [];
  }
  const out: [PropertyKey[], string][] = [];
  if (images && links) out.push([at, 'a WeCom Moments post carries images or one link, not both (add_moment_task)']);
  if (images > WECOM_ATTACHMENT_LIMITS.momentImages) out.push([at, `a WeCom Moments post carries at most ${WECOM_ATTACHMENT_LIMITS.momentImages} images (${images} given)`]);
  if (links > WECOM_ATTACHMENT_LIMITS.momentLinks) out.push([at, `a WeCom Moments post carries at most one link (${links} given)`]);
  materials.forEach((m, i) => {
    if (m.kind !== 'image' && !m.coverUrl) {
      out.push([[...at, i], 'a WeCom Moments link is posted with a cover image: pick a library material that has one (coverUrl)']);
    }
  });
  return out;
}

function stepProblems(def: SopDefinition, step: SopStep, ctx: SopContext, forGroups: boolean): [PropertyKey[], string][] {
  const out: [PropertyKey[], string][] = [];
  if (def.kind === 'journey') {
    const index = def.steps.indexOf(step);
    const before = def.steps[index - 1]?.offsetDays;
    if (step.offsetDays !== undefined && before !== undefined && step.offsetDays < before) {
      out.push([['offsetDays'], `comes before the previous step (day ${before}): steps run in order`]);
    }
    if (step.offsetDays === undefined) out.push([['offsetDays'], 'a journey step needs offsetDays (0 = the entry day)']);
    if (!step.window) out.push([['window'], 'a journey step needs a window { start, end }']);
    if (step.dueWithinMinutes !== undefined) out.push([['dueWithinMinutes'], 'journey steps use window; dueWithinMinutes is for recurring and broadcast SOPs']);
  } else {
    if (step.offsetDays !== undefined) out.push([['offsetDays'], 'only journey steps have offsetDays']);
    if (step.window) out.push([['window'], 'only journey steps have a window; use dueWithinMinutes']);
  }
  if (step.window) {
    if (step.window.end <= step.window.start) out.push([['window'], `ends (${step.window.end}) before it starts (${step.window.start})`]);
    else if (!clipToQuietHours(step.window, def.policies.quietHours)) out.push([['window'], 'lies wholly inside the quiet hours']);
  }
  const ex = step.executor;
  if (ex.rule === 'contactOwner' && forGroups) out.push([['executor', 'rule'], 'group SOPs have no contact owner: use groupOwner, user or roundRobin']);
  if (ex.rule === 'groupOwner' && !forGroups) out.push([['executor', 'rule'], 'groupOwner needs a groups audience']);
  if (ex.rule === 'user' && !ctx.userIds.has(ex.userId)) out.push([['executor', 'userId'], `unknown or disabled user ${ex.userId}`]);
  if (ex.rule === 'roundRobin' && !ctx.teamIds.has(ex.teamId)) out.push([['executor', 'teamId'], `unknown team ${ex.teamId}`]);

  if (step.wecomMassSend) {
    if (!(WECOM_MASS_SEND_CHANNELS as readonly string[]).includes(step.channel)) {
      out.push([['wecomMassSend'], `only ${WECOM_MASS_SEND_CHANNELS.join(', ')} steps can be handed to WeCom`]);
    } else if (step.channel === 'group_chat' && !forGroups) {
      out.push([['wecomMassSend'], 'a group_chat mass-send goes to customer groups: it needs a groups audience']);
    } else if (step.channel === 'wecom_chat' && forGroups) {
      out.push([['wecomMassSend'], 'a wecom_chat mass-send goes to customers: it needs a segment audience']);
    }
  }
  step.content.materials.forEach((m, i) => {
    if (m.kind && !m.materialId) out.push([['content', 'materials', i, 'kind'], 'only a material picked from the library (materialId) is marked as an image']);
    if (m.coverUrl && !m.materialId) out.push([['content', 'materials', i, 'coverUrl'], 'only a material picked from the library (materialId) carries its cover']);
  });
  const templates: [PropertyKey[], string][] = [[['content', 'template'], step.content.template],
    ...(step.content.variants ?? []).map((v, i): [PropertyKey[], string] => [['content', 'variants', i, 'template'], v.template])];
  for (const [parts, source] of templates) {
    for (const p of templateProblems(source)) out.push([parts, p]);
    if (forGroups && /\{\{-?\s*contact\b|\{%-?[^%]*\bcontact\./.test(source)) out.push([parts, 'group SOPs have no contact: use group.* variables']);
    if (!forGroups && /\bgroup\./.test(source)) out.push([parts, 'contact SOPs have no group: use contact.* variables']);
  }
  step.content.materials.forEach((m, i) => {
    if (!ctx.allowHttpMaterials && m.url.toLowerCase().startsWith('http:')) {
      out.push([['content', 'materials', i, 'url'], 'must be an https URL (an admin may allow http: PUT /api/settings/materials)']);
    }
  });
  step.content.materials.forEach((m, i) => m.tagIds.forEach((t, j) => {
    if (!ctx.tagIds.has(t)) out.push([['content', 'materials', i, 'tagIds', j], `unknown tag ${t}`]);
  }));
  return out;
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
