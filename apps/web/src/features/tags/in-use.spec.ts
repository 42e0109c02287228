import { createInstance, type TFunction } from 'i18next';
import { tagUsersText } from './in-use';
import { messages } from './messages';

async function tIn(lang: 'zh' | 'en'): Promise<TFunction> {
  const i18n = createInstance();
  await i18n.init({ lng: lang, resources: { [lang]: { tags: messages[lang] } }, defaultNS: 'tags', interpolation: { escapeValue: false } });
  return i18n.t;
}

const segment = { path: 'segments/1', problem: 'segment "高意向客户" uses it', kind: 'segment' as const, name: '高意向客户' };
const sop = { path: 'sops/2', problem: 'SOP "Welcome" uses it', kind: 'sop' as const, name: 'Welcome' };
const rule = { path: 'response-rules/3', problem: 'response rule "有兴趣" uses it', kind: 'responseRule' as const, name: '有兴趣' };

describe('tagUsersText', () => {
  it('words each user of the tag by its kind and name, in one language, joined as the language joins lists', async () => {
    const zh = await tIn('zh');
    const en = await tIn('en');
    expect(tagUsersText(zh, 'zh', [segment])).toBe('不能删除：分群「高意向客户」正在使用它');
    expect(tagUsersText(en, 'en', [segment])).toBe('Cannot delete: used by segment "高意向客户"');
    expect(tagUsersText(zh, 'zh', [segment, sop, rule])).toBe('不能删除：分群「高意向客户」、SOP「Welcome」和响应规则「有兴趣」正在使用它');
    expect(tagUsersText(en, 'en', [segment, sop])).toBe('Cannot delete: used by segment "高意向客户" and SOP "Welcome"');
    const code = { path: 'source-codes/5', problem: 'source code "XHS-B" uses it', kind: 'sourceCode' as const, name: 'XHS-B' };
    expect(tagUsersText(en, 'en', [code, sop, rule])).toBe('Cannot delete: used by channel code "XHS-B", SOP "Welcome", and response rule "有兴趣"');
  });

  it('shows a kind it has no word for by its name alone, and gives up (null) when a detail names nothing', async () => {
    const zh = await tIn('zh');
    const en = await tIn('en');
    const unknown = { path: 'journeys/4', problem: 'journey "Spring" uses it', kind: 'journey' as never, name: 'Spring' };
    expect(tagUsersText(zh, 'zh', [segment, unknown])).toBe('不能删除：分群「高意向客户」和「Spring」正在使用它');
    expect(tagUsersText(en, 'en', [unknown])).toBe('Cannot delete: used by "Spring"');
    expect(tagUsersText(en, 'en', [{ path: 'segments/1', problem: 'segment "x" uses it' }])).toBeNull();
    expect(tagUsersText(en, 'en', [])).toBeNull();
  });
});

describe('tag counts', () => {
  it('are said in each language\'s grammar: one tag, two tags', async () => {
    const en = await tIn('en');
    const zh = await tIn('zh');
    expect([0, 1, 2].map((count) => en('tagsCount', { count }))).toEqual(['0 tags', '1 tag', '2 tags']);
    expect([1, 2].map((count) => zh('tagsCount', { count }))).toEqual(['1 个标签', '2 个标签']);
  });
});
