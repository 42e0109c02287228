import { safeNext } from './wecom-oauth.service';

describe('where a WeCom sign-in may send the browser', () => {
  it('keeps paths of the app and turns anything else into the inbox', () => {
    expect(safeNext('/inbox?task=42')).toBe('/inbox?task=42');
    expect(safeNext('/team?task=7')).toBe('/team?task=7');
    for (const bad of ['//evil.example', '/\\evil.example', 'https://evil.example', 'inbox', '', undefined, ['/inbox'], '/a b', `/${'x'.repeat(600)}`]) {
      expect(safeNext(bad)).toBe('/inbox');
    }
  });
});
