import { consolePath } from './links';

describe('consolePath', () => {
  it('keeps console paths as they are', () => {
    expect(consolePath('/inbox?task=42')).toBe('/inbox?task=42');
    expect(consolePath('/team?task=7')).toBe('/team?task=7');
  });

  it('maps links sent before the console had routes', () => {
    expect(consolePath('/#/inbox/tasks/1042')).toBe('/inbox?task=1042');
    expect(consolePath('#/inbox/tasks/9')).toBe('/inbox?task=9');
    expect(consolePath('/#/inbox?list=today')).toBe('/inbox?list=today');
  });
});
