import {
  AppError, compileTaskTemplate, definitionSchema, recurrenceProblems, templateProblems, validateSop, wecomAttachmentProblems, withLibraryMaterials,
  type SopContext, type SopDefinition,
} from '@sop/domain';
import { NO_ROOM } from '@sop/engine';
import i18next, { type TFunction } from 'i18next';
import { Liquid } from 'liquidjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SopPreviewService } from '../../../../api/src/modules/sops/sop-preview.service';
import { wecomImageProblems } from '../../../../api/src/modules/sops/wecom-images';
import { common } from '../../i18n/common';
import { messages as inbox } from '../inbox/messages';
import { messages as sops } from './messages';
import { heldReasonText, sopProblemText, sopProblemWords } from './problem-words';

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const [SEGMENT, USER, TEAM, TAG, EXCLUSIVE_A, EXCLUSIVE_B, SELF, RECURRING, MATERIAL] = [1, 2, 3, 4, 5, 6, 7, 8, 9].map(id);
const GONE = id(99);
const ctx: SopContext = {
  segmentIds: new Set([SEGMENT]), userIds: new Set([USER]), teamIds: new Set([TEAM]), tagIds: new Set([TAG, EXCLUSIVE_A, EXCLUSIVE_B]),
  exclusiveGroupOf: new Map([[EXCLUSIVE_A, id(50)], [EXCLUSIVE_B, id(50)]]), sopIds: new Set([SELF, RECURRING]), journeyIds: new Set([SELF]),
  selfId: SELF, allowHttpMaterials: false, now: new Date(),
};

/** What the SOP check says of a definition (validateSop's 422 details), [] when it passes. */
function checked(input: unknown): string[] {
  try {
    validateSop(input, ctx);
    return [];
  } catch (e) {
    if (e instanceof AppError) return (e.details ?? []).map((d) => d.problem);
    throw e;
  }
}

const step = (over: Record<string, unknown> = {}) => ({
  name: 'Day 0', channel: 'phone_call', executor: { rule: 'contactOwner' }, content: { template: 'Hi {{ contact.name }}' }, ...over,
});

/** Every problem the SOP's checks give for the bad drafts below, as the code words them. */
function producedProblems(): string[] {
  const out: string[] = [];
  // The shape (zod): its own messages and zod's defaults.
  out.push(...checked({
    kind: 'weekly', timezone: 5, audience: { nope: 1 }, entry: { reentry: 'sometimes', extra: 1 }, schedule: { rrule: '' }, sendAt: 'tomorrow',
    steps: [step({
      name: '', offsetDays: 1.5, window: { start: '9:00', end: '25:00' }, dueWithinMinutes: 1, channel: 'fax', wecomMassSend: 'yes',
      content: {
        template: '', variants: [{ name: 'A', weight: 0, template: 'x' }],
        materials: [{ materialId: 'nope', title: 'x'.repeat(201), url: 'ftp://example.com', tagIds: ['x'], kind: 'video', coverUrl: 'https://u:p@example.com/c.png' }],
      },
      executor: { rule: 'boss' }, reminder: { dueSoonMinutes: 0, mandatory: 'no' },
    })],
    policies: { businessDaysOnly: 'x', priority: 101, exitOn: [{ on: 'never' }], onFinish: { addTagIds: 'x' }, overflow: 'x', quietHours: { start: 'x', end: '1' } },
    colour: 'red', shade: 'dark',
  }));
  out.push(...checked({ kind: 'journey', audience: { segmentId: SEGMENT }, steps: [] }));
  out.push(...checked({ kind: 'journey', audience: { segmentId: SEGMENT }, steps: Array.from({ length: 21 }, () => step()), extra: true }));
  out.push(...checked({ kind: 'journey', audience: { segmentId: SEGMENT }, steps: 'x' }));
  out.push(...checked({ kind: 'journey', audience: { segmentId: SEGMENT }, steps: [step({ name: null, executor: { rule: 'user' },
    content: { template: 'x'.repeat(10_001), materials: Array.from({ length: 21 }, () => ({ title: 'x', url: 'https://example.com' })),
      variants: [1, 2, 3, 4, 5, 6].map((n) => ({ name: `v${n}`, weight: 1, template: 'x' })) },
    dueWithinMinutes: 100_000 })] }));
  out.push(...checked({ kind: 'journey', audience: { segmentId: SEGMENT }, steps: [step({ executor: { rule: 'user', userId: 'x' }, content: { template: 'x', variants: [] } })] }));
  out.push(...checked(null));

  // The meaning: a journey for customer groups that gets everything wrong.
  out.push(...checked({
    kind: 'journey', timezone: 'Mars/Olympus', audience: { groups: { ownerUserIds: [GONE], ownerTeamIds: [GONE] } },
    entry: { event: 'contact.joined', includeExistingMembers: true }, schedule: { rrule: 'FREQ=DAILY;BYHOUR=8;BYMINUTE=0' }, sendAt: '2020-01-01T00:00:00+08:00',
    steps: [
      step({ offsetDays: 5, window: { start: '09:00', end: '18:00' } }),
      step({ offsetDays: 2, dueWithinMinutes: 60, executor: { rule: 'user', userId: GONE }, channel: 'sms', wecomMassSend: true }),
      step({ window: { start: '18:00', end: '09:00' }, executor: { rule: 'roundRobin', teamId: GONE }, channel: 'wecom_chat', wecomMassSend: true,
        content: { template: '{{ contact.name }} {{ nobody.name }} {{ contact.nope }} {{ contact.attributes }}', materials: [
          { title: 'a', url: 'http://example.com', kind: 'image', coverUrl: 'https://example.com/c.png', tagIds: [GONE] },
        ] } }),
      step({ offsetDays: 9, window: { start: '22:00', end: '23:00' }, content: { template: 'x', variants: [
        { name: 'A', weight: 1, template: '{{ x | nope }}' }, { name: 'B', weight: 1, template: '{% include "a" %}' }] } }),
    ],
    policies: {
      quietHours: { start: '21:00', end: '08:00' }, overflow: 'reassign',
      exitOn: [{ on: 'tagAdded', tagId: GONE }, { on: 'leftSegment' }],
      onFinish: { addTagIds: [TAG, EXCLUSIVE_A, EXCLUSIVE_B], removeTagIds: [TAG, GONE], handoverSopId: SELF },
    },
  }));
  // A recurring SOP for contacts with what only journeys have, and one without its schedule.
  out.push(...checked({
    kind: 'recurring', audience: { segmentId: GONE }, entry: { event: 'contact.updated' }, schedule: { rrule: 'FREQ=DAILY;BYHOUR=8;BYMINUTE=0' },
    steps: [step({ offsetDays: 1, window: { start: '09:00', end: '10:00' }, executor: { rule: 'groupOwner' }, channel: 'group_chat', wecomMassSend: true,
      content: { template: '{{ group.name }}' } })],
    policies: { onFinish: { handoverSopId: RECURRING } },
  }));
  out.push(...checked({ kind: 'recurring', audience: { segmentId: SEGMENT }, steps: [step()], policies: { onFinish: { handoverSopId: GONE } } }));
  out.push(...checked({ kind: 'broadcast', audience: { segmentId: SEGMENT }, steps: [step()] }));
  out.push(...checked({ kind: 'broadcast', audience: { segmentId: SEGMENT }, sendAt: '2020-01-01T00:00:00+08:00', steps: [step()] }));
  out.push(...checked({ kind: 'recurring', audience: { segmentId: SEGMENT }, schedule: { rrule: 'FREQ=HOURLY;BYHOUR=8;BYMINUTE=0' }, steps: [step()] }));

  // Templates: Liquid's parse errors and limits, and unknown variables.
  for (const source of ['{{ contact.name', '{% for x in contact.tags %}', '{% endfor %}', '{% bogus %}', '{% if %}', '{{ contact.name | nope }}',
    '{% include "a" %}', '{% render "a" %}', '{% layout "a" %}', 'x'.repeat(20_001)]) out.push(...templateProblems(source));

  // Recurring rules.
  for (const rule of ['DTSTART:20250101T000000Z\nRRULE:FREQ=DAILY', 'FOO=1', 'FREQ=NOPE', 'FREQ=DAILY;UNTIL=abc', 'FREQ=MINUTELY;BYHOUR=8;BYMINUTE=0',
    'FREQ=DAILY', 'FREQ=DAILY;BYHOUR=8;BYMINUTE=30;BYSECOND=5', 'FREQ=DAILY;UNTIL=20000101T000000Z;BYHOUR=8;BYMINUTE=0',
    'FREQ=DAILY;BYHOUR=8;BYMINUTE=0,30']) out.push(...recurrenceProblems(rule, 'Asia/Shanghai', new Date()));

  // What WeCom would refuse of a step's attachments, and a picked material the library no longer has.
  const link = (n: number) => ({ title: `l${n}`, url: `https://example.com/${n}`, tagIds: [] });
  const image = (n: number) => ({ ...link(n), materialId: MATERIAL, kind: 'image' as const });
  const massSend = (channel: string, materials: object[]) => definitionSchema.parse({
    kind: 'journey', audience: { segmentId: SEGMENT }, steps: [step({ channel, wecomMassSend: true, offsetDays: 0, window: { start: '09:00', end: '10:00' },
      content: { template: 'x', materials } })] }) as SopDefinition;
  const problemsOf = (details: { problem: string }[]) => details.map((d) => d.problem);
  out.push(...problemsOf(wecomAttachmentProblems(massSend('wecom_chat', Array.from({ length: 10 }, (_, n) => link(n))))));
  out.push(...problemsOf(wecomAttachmentProblems(massSend('moments', [...Array.from({ length: 10 }, (_, n) => image(n)), link(1), link(2)]))));
  out.push(...problemsOf(withLibraryMaterials(massSend('wecom_chat', [{ ...link(1), materialId: GONE }]), new Map()).problems));
  return out;
}

/** The API's other problems: its image check, a published SOP's kind, and the designer's message preview. */
async function producedApiProblems(): Promise<string[]> {
  const def = definitionSchema.parse({
    kind: 'journey', audience: { segmentId: SEGMENT }, steps: [step({ channel: 'wecom_chat', wecomMassSend: true, offsetDays: 0,
      window: { start: '09:00', end: '10:00' }, content: { template: 'x', materials: [
        { materialId: id(11), title: 'big', url: 'https://example.com/big.png', kind: 'image' },
        { materialId: id(12), title: 'gif', url: 'https://example.com/a.gif', kind: 'image' },
        { materialId: id(13), title: 'odd', url: 'https://example.com/a.bin', kind: 'image' },
      ] } })],
  }) as SopDefinition;
  const facts = [[id(11), 11 * 1024 * 1024, 'png'], [id(12), 1000, 'gif'], [id(13), 1000, 'other']] as const;
  const sops = { imageFacts: async () => facts.map(([i, bytes, type], n) => ({ id: i, url: def.steps[0].content.materials[n].url,
    image_checked_url: def.steps[0].content.materials[n].url, image_bytes: bytes, image_type: type })) };
  const out = (await wecomImageProblems(sops as never, {} as never, 't', def, { allowHosts: [] })).map((d) => d.problem);
  // sops.service.ts update(): a published SOP keeps its kind (said there, at the save)
  out.push('a published SOP stays journey; create a new SOP instead');
  const contact = { id: id(20), name: '张伟', external_id: 'w1', phone: null, email: null, timezone: 'Asia/Shanghai', attributes: {}, order_count: 0,
    total_spend: '0', last_order_at: null, owner_name: '王芳', owner_email: 'w@example.com' };
  const preview = new SopPreviewService({ query: async () => [contact] } as never);
  for (const template of ['{{ contact.name }}{% for i in (1..5000000) %}x{% endfor %}', '{{ contact.name | bogus }}']) {
    await preview.message('t', { template, contactId: contact.id }).catch((e: AppError) => out.push(...(e.details ?? []).map((d) => d.problem)));
  }
  return out;
}

/** Why tasks were held, as the engines record it. */
function producedHeldReasons(): string[] {
  const scope = { contact: { name: '张伟' }, sop: { name: 's' }, step: { name: 'd' } };
  const reasons = ['{{ contact.name }}{% for i in (1..5000000) %}x{% endfor %}', '{{ contact.name | nope }}', '{{ contact.name | divided_by: 0 | date: 1 }}{{ 1 | plus }}']
    .map((source) => compileTaskTemplate(source)(scope).heldReason).filter((r): r is string => r !== null);
  // the planner's hold for want of room (sop-occurrence.ts): NO_ROOM, its horizon and the limit that refused
  reasons.push(`${NO_ROOM} 7 days: contact cap`, `${NO_ROOM} 7 days: executor capacity`);
  return reasons;
}

/** Liquid's render time limit, hit on purpose with a limit of 1 ms (the engine allows 1000 ms). */
function renderTimeLimit(): string {
  try {
    new Liquid({ renderLimit: 1 }).parseAndRenderSync('{% for i in (1..100000) %}{% for j in (1..100) %}x{% endfor %}{% endfor %}');
  } catch (e) {
    return (e as Error).message;
  }
  return 'no limit hit';
}


/** The console's t in each language, with the namespaces the words use. */
const ts: Record<'zh' | 'en', TFunction> = {} as never;
beforeAll(async () => {
  for (const lang of ['zh', 'en'] as const) {
    const instance = i18next.createInstance();
    await instance.init({
      lng: lang, fallbackLng: false, defaultNS: 'common', ns: ['common', 'sops', 'inbox'], interpolation: { escapeValue: false }, returnNull: false,
      resources: { [lang]: { common: common[lang], sops: sops[lang], inbox: inbox[lang] } },
    });
    ts[lang] = instance.t;
  }
});

/**
 * English prose left in a Chinese text: two English words in a row, once the template's own Liquid is taken out (codes,
 * variable names and values are single tokens or lists).
 */
const englishProse = (text: string) => /[A-Za-z]{2,} [A-Za-z]{2,}/.test(text.replace(/\{%.*?%\}|\{\{.*?\}\}/g, ''));

function expectWorded(raw: string, zh: string, en: string): void {
  expect({ raw, zh, worded: zh !== raw && /[\u4e00-\u9fff]/.test(zh) && !englishProse(zh) }).toEqual({ raw, zh, worded: true });
  for (const text of [zh, en]) expect({ raw, text, keyOrPlaceholderLeft: /problems\.|\{\{\w+\}\}/.test(text) }).toEqual({ raw, text, keyOrPlaceholderLeft: false });
}

describe("the SOP check's problems in the viewer's words", () => {
  it('words every problem the domain check gives (shape, meaning, templates, schedules, attachments) in Chinese and English', () => {
    const problems = [...new Set(producedProblems())];
    expect(problems.length).toBeGreaterThan(100);
    for (const p of problems) expectWorded(p, sopProblemText(ts.zh, p), sopProblemText(ts.en, p));
  });

  it("words the API's own problems: its image check, a published SOP's kind and the message preview", async () => {
    const problems = await producedApiProblems();
    expect(problems).toHaveLength(6);
    for (const p of problems) expectWorded(p, sopProblemText(ts.zh, p), sopProblemText(ts.en, p));
    const preview = problems.find((p) => p.startsWith('cannot be rendered'))!;
    expect(sopProblemText(ts.zh, preview)).toBe('无法为该客户生成预览：模板超出内存限制（第 1 行第 19 列）');
    expect(sopProblemText(ts.en, preview)).toBe('Cannot be rendered for this customer: the template ran out of memory (line 1, column 19)');
  });

  it('words why tasks were held, and Liquid limits wherever they are hit', () => {
    const reasons = producedHeldReasons();
    expect(reasons).toHaveLength(4);
    for (const r of reasons) expectWorded(r, heldReasonText(ts.zh, r), heldReasonText(ts.en, r));
    expect(heldReasonText(ts.zh, reasons[0])).toBe('模板超出内存限制（第 1 行第 19 列）');
    expect(heldReasonText(ts.en, reasons[0])).toBe('the template ran out of memory (line 1, column 19)');
    expect(heldReasonText(ts.zh, reasons[2])).toBe('7 天内都没有空位（单客户触达上限已满）');
    const slow = renderTimeLimit();
    expect(slow).toMatch(/^template render limit exceeded, line:\d+, col:\d+$/);
    expect(heldReasonText(ts.zh, `the template could not be rendered: ${slow}`)).toMatch(/^模板渲染超时（第 \d+ 行第 \d+ 列）$/);
    expect(sopProblemText(ts.en, `cannot be rendered for this contact: ${slow}`)).toMatch(/^Cannot be rendered for this customer: the template took too long to render \(line \d+, column \d+\)$/);
  });

  it('says the problems people meet most as a Chinese ops manager reads them', () => {
    expect(sopProblemText(ts.zh, 'ends (09:00) before it starts (18:00)')).toBe('结束时间（09:00）必须晚于开始时间（18:00）');
    expect(sopProblemText(ts.zh, 'is not a valid Liquid template: undefined filter: nope, line:1, col:1')).toBe('模板语法有误：未知的过滤器“nope”（第 1 行第 1 列）');
    expect(sopProblemText(ts.zh, 'only wecom_chat, group_chat, moments steps can be handed to WeCom')).toBe('只有企微私聊、客户群、朋友圈步骤可以交给企业微信');
    expect(sopProblemText(ts.zh, 'Too big: expected string to have <=200 characters')).toBe('最多 200 个字符');
    expect(sopProblemText(ts.zh, 'a published SOP stays journey; create a new SOP instead')).toBe('SOP 发布后不能更改类型（当前为旅程）：请新建一个 SOP');
  });

  it("keeps a Liquid message it has no words for behind a worded lead-in, and an unknown problem as the API said it", () => {
    expect(heldReasonText(ts.zh, 'the template could not be rendered: foo is broken, line:2, col:3')).toBe('模板出错：foo is broken（第 2 行第 3 列）');
    expect(sopProblemText(ts.zh, 'is not a valid Liquid template: expected variable name, line:1, col:10')).toBe('模板语法有误：expected variable name（第 1 行第 10 列）');
    expect(sopProblemText(ts.zh, 'something new')).toBe('something new');
    expect(heldReasonText(ts.zh, 'something new')).toBe('something new');
  });

  it('names a key both languages have for every pattern', () => {
    for (const lang of ['zh', 'en'] as const) {
      const t = ((key: string) => key) as unknown as TFunction;
      for (const [, key] of sopProblemWords(t)) expect([lang, key, ts[lang](key) !== key.replace(/^\w+:/, '')]).toEqual([lang, key, true]);
    }
  });

  // A problem added to the domain's check is said by a literal there: each must be among those produced above (so it
  // is worded), else this names it. Add a bad input for it to producedProblems and its words to problem-words.ts.
  it('produces every problem the check can say (each prose literal of its sources)', async () => {
    const produced = [...producedProblems(), ...(await producedApiProblems()), ...producedHeldReasons()];
    const root = join(__dirname, '../../../../..');
    const source = (file: string, from?: string, to?: string) => {
      let text = readFileSync(join(root, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$|\s\/\/ .*$/gm, '');
      if (from) text = text.slice(text.indexOf(from), to ? text.indexOf(to, text.indexOf(from)) : undefined);
      return text;
    };
    const sources = [
      source('libs/domain/src/sops/definition.ts'), source('libs/domain/src/sops/validate.ts'), source('libs/domain/src/sops/materials.ts'),
      source('libs/domain/src/sops/template.ts', 'export function templateProblems', 'const OUTPUT'),
      source('libs/domain/src/sops/template.ts', 'function failureReason', 'export function compileTaskTemplate'),
      source('libs/domain/src/sops/template.ts', 'for (const tag of', 'export const TEMPLATE_VARIABLES'),
      source('libs/domain/src/sops/cadence.ts', 'export function recurrenceProblems', 'export function nextOccurrences'),
      source('apps/api/src/modules/sops/sop-preview.service.ts'), source('apps/api/src/modules/sops/wecom-images.ts', 'export async function wecomImageProblems', 'export async function readImagesAhead'),
    ];
    const literals = sources.flatMap((s) => [...s.matchAll(/'((?:[^'\\\n]|\\.)*)'|`((?:[^`\\]|\\.)*)`/g)].map((m) => (m[1] ?? m[2]).replace(/\\(.)/g, '$1')))
      .map((l) => l.replace(/\$\{[^}]*\}/g, '\u0000').split('\u0000').map((piece) => piece.trim()).filter((piece) => piece.length > 1))
      .filter((pieces) => pieces.join(' ').split(/\s+/).length >= 2);
    expect(literals.length).toBeGreaterThan(60);
    const missing = literals.filter((pieces) => !produced.some((p) => pieces.every((piece) => p.includes(piece))));
    expect(missing.map((pieces) => pieces.join(' … '))).toEqual([]);
  });
});
