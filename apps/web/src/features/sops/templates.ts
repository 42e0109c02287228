import type { Schemas } from '../../api/client';

export type Definition = Schemas['SopDefinition'];
export type TemplateKey = 'welcome' | 'wakeup' | 'morning' | 'weekly' | 'broadcast';
export const TEMPLATE_KEYS: TemplateKey[] = ['welcome', 'wakeup', 'morning', 'weekly', 'broadcast'];
type Lang = 'zh' | 'en';

const ALL_DAY_WORK = { start: '10:00', end: '12:00' };
const AFTERNOON = { start: '14:00', end: '17:00' };

/** Message texts of the templates' steps, in both languages (an ops manager edits them after). */
const TEXT = {
  zh: {
    welcome: ['{{ contact.name }}，您好！我是您的专属顾问{{ owner.name }}，有任何问题随时找我。', '{{ contact.name }}，最近用得怎么样？有什么我可以帮您的吗？', '{{ contact.name }}，送您一张新客专享券，本周内有效。'],
    wakeup: ['{{ contact.name }}，好久不见！最近店里上了新品，给您留了一份试用装。', '{{ contact.name }}，本周会员日全场八折，给您发一张专属券。', '{{ contact.name }}，好久没联系了，想听听您的建议，回复就送小礼品。'],
    morning: '各位早上好！今日早报：{{ sop.name }}。',
    weekly: '周五晚上好！今晚 19:30 群内抽奖，欢迎大家参加。',
    broadcast: '{{ contact.name }}，您好！限时活动开始了，详情请看链接。',
    stepNames: { welcome: ['第 0 天 欢迎', '第 3 天 回访', '第 7 天 送券'], wakeup: ['沉默 7 天', '沉默 14 天', '沉默 30 天'], morning: '发早报', weekly: '组织活动', broadcast: '群发' },
  },
  en: {
    welcome: ["Hi {{ contact.name }}, I'm {{ owner.name }}, your adviser. Ask me anything, any time.", 'Hi {{ contact.name }}, how is it going so far? Anything I can help with?', 'Hi {{ contact.name }}, here is a welcome coupon, valid this week.'],
    wakeup: ['Hi {{ contact.name }}, long time no see! We have new arrivals and kept a sample for you.', 'Hi {{ contact.name }}, members get 20% off this week: here is your coupon.', "Hi {{ contact.name }}, we'd love your advice: reply and get a small gift."],
    morning: 'Good morning! Today: {{ sop.name }}.',
    weekly: 'Happy Friday! Lucky draw in the group at 19:30 tonight.',
    broadcast: 'Hi {{ contact.name }}, our limited-time offer has started: see the link.',
    stepNames: { welcome: ['Day 0 welcome', 'Day 3 check-in', 'Day 7 coupon'], wakeup: ['Silent 7 days', 'Silent 14 days', 'Silent 30 days'], morning: 'Morning report', weekly: 'Group activity', broadcast: 'Broadcast' },
  },
} as const;

const contactStep = (name: string, template: string, offsetDays: number, window = AFTERNOON) => ({
  name, offsetDays, window, channel: 'wecom_chat' as const, content: { template, materials: [] }, executor: { rule: 'contactOwner' as const },
});
const groupStep = (name: string, template: string) => ({
  name, dueWithinMinutes: 120, channel: 'group_chat' as const, content: { template, materials: [] }, executor: { rule: 'groupOwner' as const },
});

/** A template's definition, audience left for the user to choose (segment templates) or all customer groups. */
export function templateDefinition(key: TemplateKey, lang: Lang, now = new Date()): Partial<Definition> {
  const x = TEXT[lang];
  switch (key) {
    case 'welcome':
      return {
        kind: 'journey', timezone: 'Asia/Shanghai', entry: { includeExistingMembers: false, reentry: 'never' },
        steps: [contactStep(x.stepNames.welcome[0], x.welcome[0], 0, ALL_DAY_WORK), contactStep(x.stepNames.welcome[1], x.welcome[1], 3), contactStep(x.stepNames.welcome[2], x.welcome[2], 7)],
        policies: { businessDaysOnly: true, quietHours: { start: '21:00', end: '09:00' }, exitOn: [{ on: 'replied' }, { on: 'leftSegment' }] },
      };
    case 'wakeup':
      // The audience is a segment of customers silent for at least 7 days: day 0, 7 and 23 of the journey are 7, 14 and 30 days of silence.
      return {
        kind: 'journey', timezone: 'Asia/Shanghai', entry: { includeExistingMembers: true, reentry: 'afterExit' },
        steps: [contactStep(x.stepNames.wakeup[0], x.wakeup[0], 0), contactStep(x.stepNames.wakeup[1], x.wakeup[1], 7), contactStep(x.stepNames.wakeup[2], x.wakeup[2], 23)],
        policies: { businessDaysOnly: true, exitOn: [{ on: 'replied' }, { on: 'bought' }, { on: 'leftSegment' }] },
      };
    case 'morning':
      return {
        kind: 'recurring', timezone: 'Asia/Shanghai', audience: { groups: {} }, schedule: { rrule: 'FREQ=DAILY;BYHOUR=8;BYMINUTE=30' },
        steps: [groupStep(x.stepNames.morning, x.morning)], policies: { businessDaysOnly: true },
      };
    case 'weekly':
      return {
        kind: 'recurring', timezone: 'Asia/Shanghai', audience: { groups: {} }, schedule: { rrule: 'FREQ=WEEKLY;BYDAY=FR;BYHOUR=19;BYMINUTE=0' },
        steps: [groupStep(x.stepNames.weekly, x.weekly)], policies: { businessDaysOnly: false },
      };
    case 'broadcast': {
      const tomorrow = new Date(now.getTime() + 24 * 3600_000);
      tomorrow.setUTCHours(2, 0, 0, 0); // 10:00 in Shanghai
      return {
        kind: 'broadcast', timezone: 'Asia/Shanghai', sendAt: tomorrow.toISOString(),
        steps: [{ ...contactStep(x.stepNames.broadcast, x.broadcast, 0), offsetDays: undefined, window: undefined, dueWithinMinutes: 240 }],
        policies: { businessDaysOnly: false },
      };
    }
  }
}
