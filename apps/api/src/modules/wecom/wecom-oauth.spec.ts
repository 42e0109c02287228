import type { HttpRequest } from '../../common/http';
import { publicBase } from './wecom-oauth.controller';
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

describe('the public address a WeCom sign-in is built on', () => {
  const req = (host: string, protocol = 'http') => ({ protocol, host }) as unknown as HttpRequest;

  it('is APP_URL whatever the request says, and refused in production without it', () => {
    expect(publicBase({ appUrl: 'https://sop.example.com', production: true }, req('evil.example'))).toBe('https://sop.example.com');
    let refused: unknown;
    try {
      publicBase({ appUrl: undefined, production: true }, req('evil.example'));
    } catch (err) {
      refused = err;
    }
    expect(refused).toMatchObject({ code: 'WECOM_OAUTH_UNCONFIGURED', status: 503 });
    // local runs and tests only: the request's own address
    expect(publicBase({ appUrl: undefined, production: false }, req('127.0.0.1:3000'))).toBe('http://127.0.0.1:3000');
  });
});
