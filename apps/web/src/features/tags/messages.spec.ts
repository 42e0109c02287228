import { createInstance } from 'i18next';
import { messages } from './messages';

describe('tag counts', () => {
  it('are said in each language\'s grammar: one tag, two tags', async () => {
    const tIn = async (lang: 'zh' | 'en') => {
      const i18n = createInstance();
      await i18n.init({ lng: lang, resources: { [lang]: { tags: messages[lang] } }, defaultNS: 'tags', interpolation: { escapeValue: false } });
      return i18n.t;
    };
    const en = await tIn('en');
    const zh = await tIn('zh');
    expect([0, 1, 2].map((count) => en('tagsCount', { count }))).toEqual(['0 tags', '1 tag', '2 tags']);
    expect([1, 2].map((count) => zh('tagsCount', { count }))).toEqual(['1 个标签', '2 个标签']);
  });
});
