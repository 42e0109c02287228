import { cardDescription, fitBytes, textCard } from './app-messages';

describe('text cards within WeCom\'s limits', () => {
  it('cuts at a byte limit without splitting a character, and says it cut', () => {
    expect(fitBytes('short', 128)).toBe('short');
    const zh = '任务即将截止：'.repeat(20); // 21 bytes each, 420 bytes
    const cut = fitBytes(zh, 128);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(128);
    expect(cut.endsWith('…')).toBe(true);
    expect(zh.startsWith(cut.slice(0, -1))).toBe(true);
    expect(Buffer.byteLength(fitBytes('😀'.repeat(200), 512))).toBeLessThanOrEqual(512);
    expect(fitBytes('a'.repeat(128), 128)).toBe('a'.repeat(128));
  });

  it('fits title, description and button', () => {
    const card = textCard({ title: '标'.repeat(100), description: 'd'.repeat(600), url: 'https://x.example/a', btntxt: 'Open the task' });
    expect(Buffer.byteLength(card.title)).toBeLessThanOrEqual(128);
    expect(Buffer.byteLength(card.description)).toBeLessThanOrEqual(512);
    expect(card.btntxt).toBe('Open');
    expect(card.url).toBe('https://x.example/a');
  });
});

describe('a card\'s description', () => {
  it('keeps our text from turning into WeCom markup, breaks lines with <br>, and never cuts inside a tag', () => {
    expect(cardDescription('客户 <b>王</b>\nline 2')).toBe('客户 ＜b＞王＜/b＞<br>line 2');
    const cut = cardDescription(`${'x'.repeat(508)}\nmore`);
    expect(cut).toBe(`${'x'.repeat(508)}…`);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(512);
  });
});
