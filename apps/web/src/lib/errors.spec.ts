import { ApiError } from '../api/client';

// The console's i18n reads the browser's saved language when it loads; a plain object stands in for it here.
Object.assign(globalThis, { window: globalThis, localStorage: { getItem: () => 'zh', setItem: () => undefined }, navigator: { language: 'zh-CN' } });

const inUse = (code: string, details: ConstructorParameters<typeof ApiError>[3]) => new ApiError(409, code, 'In use by …', details);
const segment = { path: 'segments/1', problem: 'segment "高意向客户" uses it', kind: 'segment' as const, name: '高意向客户' };
const sop = { path: 'sops/2', problem: 'SOP "Welcome" targets it', kind: 'sop' as const, name: 'Welcome' };
const rule = { path: 'response-rules/3', problem: 'response rule "有兴趣" uses it', kind: 'responseRule' as const, name: '有兴趣' };

describe('errorText', () => {
  let i18n: typeof import('../i18n');
  let errors: typeof import('./errors');
  beforeAll(async () => {
    i18n = await import('../i18n');
    errors = await import('./errors');
  });
  const inLang = async (lang: 'zh' | 'en', error: unknown) => {
    await i18n.i18n.changeLanguage(lang);
    return errors.errorText(error);
  };

  it('names what keeps a resource from being deleted, each by its kind and name, in one language, joined as the language joins lists', async () => {
    expect(await inLang('zh', inUse('TAG_IN_USE', [segment]))).toBe('不能删除：分群「高意向客户」正在使用它');
    expect(await inLang('en', inUse('TAG_IN_USE', [segment]))).toBe('Cannot delete: used by segment "高意向客户"');
    expect(await inLang('zh', inUse('TAG_IN_USE', [segment, sop, rule]))).toBe('不能删除：分群「高意向客户」、SOP「Welcome」和响应规则「有兴趣」正在使用它');
    expect(await inLang('en', inUse('SEGMENT_IN_USE', [sop, { ...sop, name: 'Spring' }]))).toBe('Cannot delete: used by SOP "Welcome" and SOP "Spring"');
    const code = { path: 'source-codes/5', problem: 'source code "XHS-B" uses it', kind: 'sourceCode' as const, name: 'XHS-B' };
    expect(await inLang('en', inUse('TAG_IN_USE', [code, sop, rule]))).toBe('Cannot delete: used by channel code "XHS-B", SOP "Welcome", and response rule "有兴趣"');
  });

  it('shows a kind it has no word for by its name alone, and says the code\'s text when a detail names nothing', async () => {
    const unknown = { path: 'journeys/4', problem: 'journey "Spring" uses it', kind: 'journey' as never, name: 'Spring' };
    expect(await inLang('zh', inUse('TAG_IN_USE', [segment, unknown]))).toBe('不能删除：分群「高意向客户」和「Spring」正在使用它');
    expect(await inLang('en', inUse('SEGMENT_IN_USE', [{ path: 'sops/1', problem: 'SOP "x" targets it' }]))).toBe('SOPs use this segment. Change or archive them first.');
    expect(await inLang('zh', inUse('SEGMENT_IN_USE', []))).toBe('该客户分群正被 SOP 使用，请先修改或归档相关 SOP。');
  });
});
