import { AppError } from '../errors';
import { BusinessCalendar, statutoryHolidays } from '../calendar/business-calendar';
import { clipToQuietHours, isOccurrence, journeyDueWindow, nextOccurrences, occurrenceDueAt, occurrenceDueUntil, recurrenceProblems, scheduleCalendar } from './cadence';
import { compileTemplate, templateProblems } from './template';
import { type SopContext, validateSop, wecomAttachmentProblems } from './validate';

const cn = new BusinessCalendar();
const shanghai = { zone: 'Asia/Shanghai', calendar: cn, businessDaysOnly: true };
const iso = (d: Date) => d.toISOString();

describe('business calendar', () => {
  it('rests on public holidays and works make-up Saturdays (2026 National Day)', () => {
    expect(cn.day('2026-10-01')).toMatchObject({ working: false, source: 'cn', name: 'National Day / 国庆节' });
    expect(cn.day('2026-10-10')).toMatchObject({ working: true, source: 'cn', name: 'National Day / 国庆节 (make-up working day 调休上班)' });
    expect(cn.isWorkingDay('2026-10-11')).toBe(false); // an ordinary Sunday
    expect(cn.onOrAfter('2026-10-01')).toBe('2026-10-08');
  });

  it('lets a tenant override a day', () => {
    const own = new BusinessCalendar([{ date: '2026-10-08', working: false, name: 'Store inventory' }]);
    expect(own.onOrAfter('2026-10-01')).toBe('2026-10-09');
  });

  it('works out the statutory holidays of a year not yet in the shipped data (2027), weekends otherwise', () => {
    const holidays = [...statutoryHolidays(2027).keys()].sort();
    expect(holidays).toEqual([
      '2027-01-01', '2027-02-05', '2027-02-06', '2027-02-07', '2027-02-08', '2027-04-05', '2027-05-01', '2027-05-02',
      '2027-06-09', '2027-09-15', '2027-10-01', '2027-10-02', '2027-10-03',
    ]);
    expect(cn.day('2027-02-05')).toEqual({ date: '2027-02-05', working: false, name: 'Spring Festival / 春节', source: 'cn-statutory' });
    expect(cn.day('2027-02-09')).toMatchObject({ working: true, source: 'cn-statutory' }); // a Tuesday
    expect(cn.day('2027-02-13')).toMatchObject({ working: false, source: 'cn-statutory' }); // a Saturday
    // The law's rules reproduce the published 2026 holidays (make-up days aside).
    for (const date of statutoryHolidays(2026).keys()) expect(cn.isWorkingDay(date)).toBe(false);
    expect(cn.day('2003-01-04')).toMatchObject({ working: false, source: 'weekend-rule' });
  });
});

describe('recurring and broadcast due times (occurrenceDueAt)', () => {
  const quiet = { start: '21:00', end: '09:00' };
  it('keeps an allowed instant, moves quiet hours to their end and non-working days to the next working day', () => {
    const at = (utc: string, policy: Parameters<typeof occurrenceDueAt>[1]) => {
      const r = occurrenceDueAt(new Date(utc), policy);
      return [iso(r.dueAt), r.why];
    };
    expect(at('2026-09-30T02:30:00Z', { ...shanghai, quietHours: quiet })).toEqual(['2026-09-30T02:30:00.000Z', null]); // Wed 10:30
    expect(at('2026-09-30T00:00:00Z', { ...shanghai, quietHours: quiet })).toEqual(['2026-09-30T01:00:00.000Z', 'quiet hours']); // 08:00 -> 09:00
    // Wed 30 Sep 22:00: quiet until Thu 09:00, but 1-7 October are holidays: Thu 8 Oct at 09:00.
    expect(at('2026-09-30T14:00:00Z', { ...shanghai, quietHours: quiet })).toEqual(['2026-10-08T01:00:00.000Z', 'quiet hours, not a working day']);
    // A Sunday 19:00 in New York (08:00 Monday in Shanghai) moves to Monday 19:00, across no DST change.
    const ny = { zone: 'America/New_York', calendar: cn, businessDaysOnly: true, quietHours: quiet };
    expect(at('2026-12-07T00:00:00Z', ny)).toEqual(['2026-12-08T00:00:00.000Z', 'not a working day']);
    expect(at('2026-12-07T00:00:00Z', { ...ny, businessDaysOnly: false })).toEqual(['2026-12-07T00:00:00.000Z', null]);
  });

  it('closes the window after its length in time outside quiet hours: a window that reaches them pauses through them', () => {
    const until = (utc: string, minutes: number, quietHours?: { start: string; end: string }, zone = 'Asia/Shanghai') =>
      iso(occurrenceDueUntil(new Date(utc), minutes, { zone, quietHours }));
    expect(until('2026-09-30T02:30:00Z', 240, quiet)).toBe('2026-09-30T06:30:00.000Z'); // 10:30 + 4 h = 14:30, no quiet on the way
    expect(until('2026-09-30T12:30:00Z', 30, quiet)).toBe('2026-09-30T13:00:00.000Z'); // 20:30 + 30 min ends as quiet begins
    // 20:30 + 4 h: 30 min before 21:00, then 3 h 30 after 09:00 the next day = 12:30 (not 00:30 in the night).
    expect(until('2026-09-30T12:30:00Z', 240, quiet)).toBe('2026-10-01T04:30:00.000Z');
    // Quiet 12:00-13:00 (not wrapping midnight), 11:30 + 2 h = 14:30; a window of two days crosses two nights.
    expect(until('2026-09-30T03:30:00Z', 120, { start: '12:00', end: '13:00' })).toBe('2026-09-30T06:30:00.000Z');
    expect(until('2026-09-30T01:00:00Z', 2 * 720, quiet)).toBe('2026-10-01T13:00:00.000Z'); // 09:00 + 24 h of 12 h days
    expect(until('2026-09-30T12:30:00Z', 240)).toBe('2026-09-30T16:30:00.000Z'); // no quiet hours: plain length
    // New York's clocks go back on 1 Nov 2026: 20:30 EDT + 4 h, quiet 21:00-09:00, closes 12:30 EST.
    expect(until('2026-11-01T00:30:00Z', 240, quiet, 'America/New_York')).toBe('2026-11-01T17:30:00.000Z');
  });
});

describe('journey due windows', () => {
  const window = { start: '10:00', end: '12:00' };
  const entered = new Date('2026-09-30T02:30:00Z'); // Wed 10:30 in Shanghai

  it('starts at entry when the window is open, skips the holiday, works the make-up Saturday', () => {
    const day0 = journeyDueWindow(entered, 0, window, shanghai);
    expect([iso(day0.dueAt), iso(day0.dueUntil)]).toEqual(['2026-09-30T02:30:00.000Z', '2026-09-30T04:00:00.000Z']);
    expect(iso(journeyDueWindow(entered, 3, window, shanghai).dueAt)).toBe('2026-10-08T02:00:00.000Z'); // Sat 3rd is a holiday
    expect(iso(journeyDueWindow(entered, 10, window, shanghai).dueAt)).toBe('2026-10-10T02:00:00.000Z'); // make-up Saturday
  });

  it('moves a window already over to the next working day', () => {
    const late = new Date('2026-09-30T05:00:00Z'); // 13:00 in Shanghai, the day before the holiday
    expect(iso(journeyDueWindow(late, 0, window, shanghai).dueAt)).toBe('2026-10-08T02:00:00.000Z');
  });

  it("uses the contact's time zone and trims quiet hours", () => {
    const ny = { ...shanghai, zone: 'America/New_York', quietHours: { start: '21:00', end: '09:00' } };
    const w = journeyDueWindow(new Date('2026-11-23T12:00:00Z'), 1, { start: '08:00', end: '11:00' }, ny);
    expect([iso(w.dueAt), iso(w.dueUntil)]).toEqual(['2026-11-24T14:00:00.000Z', '2026-11-24T16:00:00.000Z']); // 09:00-11:00 EST
    expect(clipToQuietHours({ start: '22:00', end: '23:00' }, { start: '21:00', end: '09:00' })).toBeNull();
  });
});

describe('daylight saving', () => {
  it('keeps a window at its wall-clock time on the day clocks change', () => {
    const ny = { zone: 'America/New_York', calendar: cn, businessDaysOnly: false };
    const w = journeyDueWindow(new Date('2026-03-07T12:00:00Z'), 1, { start: '10:00', end: '12:00' }, ny);
    expect([iso(w.dueAt), iso(w.dueUntil)]).toEqual(['2026-03-08T14:00:00.000Z', '2026-03-08T16:00:00.000Z']); // 10:00-12:00 EDT
  });
});

describe('recurring rules', () => {
  it('maps a rule to a Schedule calendar that fires at least at every occurrence', () => {
    const anchor = new Date('2026-11-20T00:00:00Z');
    expect(scheduleCalendar('FREQ=WEEKLY;BYDAY=FR;BYHOUR=19;BYMINUTE=0', 'Asia/Shanghai', anchor)).toEqual({ hour: [19], minute: [0], dayOfWeek: ['FRIDAY'] });
    // The first Monday and the last day of the month: every Monday / every day at 09:00, filtered by isOccurrence.
    expect(scheduleCalendar('FREQ=MONTHLY;BYDAY=1MO;BYHOUR=9;BYMINUTE=0', 'Asia/Shanghai', anchor)).toEqual({ hour: [9], minute: [0], dayOfWeek: ['MONDAY'] });
    expect(scheduleCalendar('FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9;BYMINUTE=0', 'Asia/Shanghai', anchor)).toEqual({ hour: [9], minute: [0] });
    expect(isOccurrence('FREQ=MONTHLY;BYDAY=1MO;BYHOUR=9;BYMINUTE=0', 'Asia/Shanghai', anchor, new Date('2026-12-07T01:00:00Z'))).toBe(true);
    expect(isOccurrence('FREQ=MONTHLY;BYDAY=1MO;BYHOUR=9;BYMINUTE=0', 'Asia/Shanghai', anchor, new Date('2026-12-14T01:00:00Z'))).toBe(false);
    expect(isOccurrence('FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9;BYMINUTE=0', 'Asia/Shanghai', anchor, new Date('2026-12-31T01:00:00Z'))).toBe(true);
  });

  const now = new Date('2026-11-23T00:00:00Z');
  it('reads the time of day in the SOP zone', () => {
    const [a, b] = nextOccurrences('FREQ=DAILY;BYHOUR=8;BYMINUTE=30', 'Asia/Shanghai', now, 2);
    expect([iso(a), iso(b)]).toEqual(['2026-11-23T00:30:00.000Z', '2026-11-24T00:30:00.000Z']);
  });

  it('pages on from an occurrence it gave, whatever the seconds of the anchor (the designer listed a day twice)', () => {
    const anchor = new Date('2026-12-05T19:37:41.123Z'); // the rule's occurrences carry these seconds
    const rule = 'FREQ=DAILY;BYHOUR=8;BYMINUTE=30';
    const first = nextOccurrences(rule, 'Asia/Shanghai', anchor, 3, anchor);
    const next = nextOccurrences(rule, 'Asia/Shanghai', first[2], 2, anchor);
    expect([...first, ...next].map(iso)).toEqual(['06', '07', '08', '09', '10'].map((d) => `2026-12-${d}T00:30:00.000Z`));
  });

  it.each([
    ['FREQ=SECONDLY', 'FREQ must be DAILY'],
    ['FREQ=DAILY', 'BYHOUR and BYMINUTE'],
    ['FREQ=DAILY;BYHOUR=8;BYMINUTE=0,10,20', 'more often than every 60 minutes'],
    ['FREQ=DAILY;BYHOUR=8;BYMINUTE=0;UNTIL=20200101T000000Z', 'never fires'],
    ['FREQ=SOMETIMES', 'not a valid RRULE'],
  ])('refuses %s', (rule, problem) => {
    expect(recurrenceProblems(rule, 'Asia/Shanghai', now).join()).toContain(problem);
  });
});

describe('templates', () => {
  it('renders known variables and names unknown ones', () => {
    expect(compileTemplate('{{ contact.name }}, {{ contact.attributes.city | default: "?" }}')({
      contact: { name: '王芳', attributes: { city: '上海' } }, sop: { name: 's' }, step: { name: 'x' },
    })).toBe('王芳, 上海');
    expect(templateProblems('{{ contact.nickname }} {{ boss.name }}')).toEqual([
      expect.stringContaining('unknown variable "contact.nickname"'), expect.stringContaining('unknown variable "boss"')]);
    expect(templateProblems('{% if %}')[0]).toContain('not a valid Liquid template');
    expect(templateProblems('{{ contact.name | shout }}')[0]).toContain('not a valid Liquid template');
    // no file system: a file name in include/render/layout would put the server's file into the message
    for (const tag of ['{% include "package.json" %}', '{% render "tsconfig.base.json" %}', '{% if true %}{% layout "x" %}{% endif %}']) {
      expect(templateProblems(tag)[0]).toMatch(/not available in step content/);
    }
  });
});

describe('the plain-template fast path', () => {
  const scopes = [
    { contact: { name: '王芳', attributes: { city: '上海', vip: true, visits: 3, zero: 0, empty: '' } }, owner: { name: 'Li', email: 'l@x' }, sop: { name: 's' }, step: { name: 'x' } },
    { contact: { name: 'Ann', attributes: {} }, owner: null, sop: { name: 's' }, step: { name: 'x' } },
    { contact: { name: '', attributes: { vip: false, list: ['a', 'b'], when: new Date('2026-01-02T03:04:05Z') } }, sop: { name: 's' }, step: { name: 'x' } },
  ];
  it.each([
    'Hi {{ contact.name }}, I am {{ owner.name }}.',
    '{{contact.attributes.city|default:"您"}} / {{ contact.attributes.vip }} / {{ contact.attributes.visits }} / {{ contact.attributes.zero }}',
    "{{ contact.attributes.empty | default: 'none' }}{{ contact.attributes.missing }}{{ owner.email | default: \"-\" }}",
    '{{ contact.attributes.list }} {{ contact.attributes.when }} {{ contact.name | default: "friend" }}',
    'no outputs at all, 只有文字 {not} { {}',
    '{{ contact.name | upcase }} {% if owner %}x{% endif %} {{- contact.name -}}',
  ])('renders %s exactly as Liquid does', (source) => {
    const fast = compileTemplate(source);
    const liquid = compileTemplate(source, { interpreterOnly: true });
    for (const scope of scopes) expect(fast(scope)).toBe(liquid(scope));
  });
});

describe('validateSop', () => {
  const segment = '11111111-1111-4111-8111-111111111111';
  const user = '22222222-2222-4222-8222-222222222222';
  const ctx: SopContext = {
    segmentIds: new Set([segment]), userIds: new Set([user]), teamIds: new Set(), tagIds: new Set(), sopIds: new Set(),
    now: new Date('2026-11-23T00:00:00Z'),
  };
  const step = {
    name: 'Welcome', offsetDays: 0, window: { start: '10:00', end: '12:00' }, channel: 'wecom_chat',
    content: { template: 'Hi {{ contact.name }}' }, executor: { rule: 'contactOwner' },
  };
  const journey = { kind: 'journey', audience: { segmentId: segment }, steps: [step] };
  const problems = (input: unknown, context = ctx) => {
    try {
      validateSop(input, context);
      return [];
    } catch (err) {
      return (err as AppError).details!.map((d) => `${d.path}: ${d.problem}`);
    }
  };

  it('accepts a journey and fills defaults', () => {
    const def = validateSop(journey, ctx);
    expect(def.policies).toMatchObject({ businessDaysOnly: true, priority: 50, exitOn: [] });
    expect(def.timezone).toBe('Asia/Shanghai');
  });

  it('names the JSON path of each problem, with status 422', () => {
    expect(() => validateSop({}, ctx)).toThrow(expect.objectContaining({ status: 422, code: 'SOP_INVALID' }));
    expect(problems({ ...journey, steps: [{ ...step, window: { start: '12:00', end: '10:00' }, channel: 'fax',
      executor: { rule: 'user', userId: '33333333-3333-4333-8333-333333333333' }, content: { template: '{{ contact.nick }}' } }] }))
      .toEqual(['definition.steps[0].channel: Invalid option: expected one of "wecom_chat"|"group_chat"|"moments"|"official_account"|"mini_program"|"video_channel"|"sms"|"email"|"phone_call"|"offline_visit"|"other"']);
    expect(problems({ ...journey, audience: { segmentId: '44444444-4444-4444-8444-444444444444' }, steps: [{ ...step,
      window: { start: '12:00', end: '10:00' }, executor: { rule: 'user', userId: '33333333-3333-4333-8333-333333333333' },
      content: { template: '{{ contact.nick }}' } }] })).toEqual([
      'definition.audience.segmentId: unknown segment 44444444-4444-4444-8444-444444444444',
      'definition.steps[0].window: ends (10:00) before it starts (12:00)',
      'definition.steps[0].executor.userId: unknown or disabled user 33333333-3333-4333-8333-333333333333',
      expect.stringContaining('definition.steps[0].content.template: unknown variable "contact.nick"'),
    ]);
  });

  it('takes wecomMassSend only where WeCom can take the step: 1:1 chats of contacts, groups of a groups SOP, Moments', () => {
    expect(problems({ ...journey, steps: [{ ...step, wecomMassSend: true }] })).toEqual([]);
    expect(problems({ ...journey, steps: [{ ...step, channel: 'moments', wecomMassSend: true }] })).toEqual([]);
    expect(problems({ ...journey, steps: [{ ...step, channel: 'sms', wecomMassSend: true }] }))
      .toEqual(['definition.steps[0].wecomMassSend: only wecom_chat, group_chat, moments steps can be handed to WeCom']);
    expect(problems({ ...journey, steps: [{ ...step, channel: 'group_chat', wecomMassSend: true }] }))
      .toEqual(['definition.steps[0].wecomMassSend: a group_chat mass-send goes to customer groups: it needs a groups audience']);
    const groups = { kind: 'recurring', audience: { groups: {} }, schedule: { rrule: 'FREQ=DAILY;BYHOUR=8;BYMINUTE=30' },
      steps: [{ name: 'Post', dueWithinMinutes: 60, channel: 'group_chat', wecomMassSend: true, content: { template: 'Hi' }, executor: { rule: 'groupOwner' } }] };
    expect(problems(groups)).toEqual([]);
    expect(problems({ ...groups, steps: [{ ...groups.steps[0], channel: 'wecom_chat' }] }))
      .toEqual(['definition.steps[0].wecomMassSend: a wecom_chat mass-send goes to customers: it needs a segment audience']);
    expect(problems({ ...journey, steps: [{ ...step, wecomMassSend: 'yes' }] })).toEqual(['definition.steps[0].wecomMassSend: Invalid input: expected boolean, received string']);
  });

  it('says what WeCom would refuse of a mass-send\'s attachments: over 9, Moments images with a link, more than 9 images or one link', () => {
    const link = { title: 'L', url: 'https://x.example/' };
    const image = { materialId: '00000000-0000-4000-8000-000000000001', title: 'I', url: 'https://x.example/i.png', kind: 'image' };
    const attachmentProblems = (materials: unknown[], channel = 'wecom_chat', wecomMassSend = true) =>
      wecomAttachmentProblems(validateSop({ ...journey, steps: [{ ...step, channel, wecomMassSend, content: { template: 'Hi', materials } }] }, ctx))
        .map((d) => `${d.path}: ${d.problem}`);
    expect(attachmentProblems(Array(9).fill(link))).toEqual([]);
    expect(attachmentProblems(Array(10).fill(link))).toEqual(['definition.steps[0].content.materials: WeCom takes at most 9 attachments in a mass-send (10 given)']);
    expect(attachmentProblems(Array(10).fill(link), 'wecom_chat', false)).toEqual([]); // by hand: no WeCom limit
    const covered = { materialId: '00000000-0000-4000-8000-000000000002', title: 'C', url: 'https://x.example/', coverUrl: 'https://x.example/c.png' };
    expect(attachmentProblems([image, covered], 'moments')).toEqual(['definition.steps[0].content.materials: a WeCom Moments post carries images or one link, not both (add_moment_task)']);
    expect(attachmentProblems(Array(9).fill(image), 'moments')).toEqual([]);
    expect(attachmentProblems([covered], 'moments')).toEqual([]);
    expect(attachmentProblems([covered, covered], 'moments')).toEqual(['definition.steps[0].content.materials: a WeCom Moments post carries at most one link (2 given)']);
    // WeCom posts a Moments link with a cover (link.media_id): a pasted link has none
    expect(attachmentProblems([link], 'moments')).toEqual([
      'definition.steps[0].content.materials[0]: a WeCom Moments link is posted with a cover image: pick a library material that has one (coverUrl)']);
    expect(problems({ ...journey, steps: [{ ...step, content: { template: 'Hi', materials: [{ ...link, kind: 'image' }] } }] }))
      .toEqual(['definition.steps[0].content.materials[0].kind: only a material picked from the library (materialId) is marked as an image']);
  });

  it('refuses what would stall the engine later: conflicting on-finish tags, steps out of order, a hand-over to a non-journey', () => {
    const [a, b] = ['55555555-5555-4555-8555-555555555555', '66666666-6666-4666-8666-666666666666'];
    const recurring = '77777777-7777-4777-8777-777777777777';
    const rich: SopContext = { ...ctx, tagIds: new Set([a, b]), exclusiveGroupOf: new Map([[a, 'g'], [b, 'g']]),
      sopIds: new Set([recurring]), journeyIds: new Set() };
    expect(problems({ ...journey, policies: { onFinish: { addTagIds: [a, b], removeTagIds: [a], handoverSopId: recurring } } }, rich)).toEqual([
      'definition.policies.onFinish.addTagIds[0]: is also in removeTagIds',
      'definition.policies.onFinish.addTagIds[1]: a second tag of the same exclusive group',
      'definition.policies.onFinish.handoverSopId: only a journey can take a hand-over',
    ]);
    expect(problems({ ...journey, steps: [{ ...step, offsetDays: 3 }, { ...step, offsetDays: 1 }] }, rich))
      .toEqual(['definition.steps[1].offsetDays: comes before the previous step (day 3): steps run in order']);
  });

  it('checks kind-specific fields', () => {
    expect(problems({ ...journey, kind: 'recurring', schedule: { rrule: 'FREQ=MINUTELY' } })).toEqual(expect.arrayContaining([
      'definition.schedule.rrule: FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY: an SOP may repeat at most hourly',
      'definition.steps[0].offsetDays: only journey steps have offsetDays',
    ]));
    expect(problems({ ...journey, kind: 'broadcast', sendAt: '2020-01-01T00:00:00Z' })).toContain('definition.sendAt: is in the past');
    expect(problems({ ...journey, steps: [{ ...step, window: undefined }] })).toEqual(['definition.steps[0].window: a journey step needs a window { start, end }']);
  });
});
