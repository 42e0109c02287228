import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_TEXTS } from '../../../web/src/i18n/error-texts';
import { USERS_ERRORS } from '../modules/users/users.errors';
import { API_ERRORS, ERROR_CATALOGS, ERROR_CODES } from './api-errors';
import { COMMON_ERRORS, fail, failAt, statusesOf } from './errors.catalog';

const ROOT = join(__dirname, '../../../..');

/** Every TypeScript source whose errors can reach the API (tests left out). */
function sources(): { file: string; text: string }[] {
  const dirs = ['apps/api/src', 'libs/domain/src', 'libs/engine/src', 'libs/db/src', 'libs/temporal/src', 'libs/notify/src'];
  return dirs.flatMap((dir) => (readdirSync(join(ROOT, dir), { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))
    .map((f) => ({ file: join(dir, f), text: readFileSync(join(ROOT, dir, f), 'utf8') })));
}

const CODE = `'([A-Z][A-Z0-9_]*)'`;
/** What `notFound(what)` answers: 'tag group' gives TAG_GROUP_NOT_FOUND (libs/domain errors.ts). */
const notFoundCode = (what: string) => `${what.toUpperCase().replace(/\s+/g, '_')}_NOT_FOUND`;

/**
 * The codes a source throws without going through a catalog entry: literal codes given to AppError and
 * to the domain's conflict(), the codes notFound() and findInTenant() derive from their subject, and
 * validationFailed()'s. `dynamic` counts AppErrors built from a code that is not a literal.
 */
function thrownCodes(text: string): { codes: string[]; dynamic: number } {
  const all = (re: RegExp) => [...text.matchAll(re)].map((m) => m[1]);
  const codes = [
    ...all(new RegExp(`new AppError\\(\\s*${CODE}`, 'g')),
    ...all(new RegExp(`\\bconflict\\(\\s*${CODE}`, 'g')),
    ...all(/\bnotFound\(\s*'([^']+)'/g).map(notFoundCode),
    ...all(/\bfindInTenant\([^;]*?,\s*'([^']+)'\s*\)/g).map(notFoundCode),
    ...(/\bvalidationFailed\(/.test(text) ? ['VALIDATION_FAILED'] : []),
  ];
  const dynamic = [...text.matchAll(/new AppError\(\s*([^\s'])/g)].length;
  return { codes, dynamic };
}

const unlisted = (text: string) => thrownCodes(text).codes.filter((c) => !(c in API_ERRORS));

describe('error catalog', () => {
  it('lists each code once, under its own key, with error statuses and a message', () => {
    const listed = Object.values(ERROR_CATALOGS).flatMap((catalog) => Object.keys(catalog));
    expect(listed.length).toBe(new Set(listed).size);
    expect(ERROR_CODES.length).toBe(listed.length);
    for (const code of ERROR_CODES) {
      const entry = API_ERRORS[code];
      expect(entry.code).toBe(code);
      expect(statusesOf(entry).every((s) => s >= 400 && s < 600)).toBe(true);
      expect(entry.message.length).toBeGreaterThan(10);
    }
  });

  it('has Chinese and English console text for every code, and no text for a code it does not list', () => {
    const texts = Object.keys(ERROR_TEXTS).sort();
    expect(ERROR_CODES.filter((c) => !ERROR_TEXTS[c])).toEqual([]);
    expect(texts.filter((c) => !(c in API_ERRORS))).toEqual([]);
    for (const [code, { zh, en }] of Object.entries(ERROR_TEXTS)) {
      expect([code, /[\u4e00-\u9fff]/.test(zh)]).toEqual([code, true]);
      expect([code, en.trim().length > 10 && !/[\u4e00-\u9fff]/.test(en)]).toEqual([code, true]);
    }
  });

  it('builds errors from catalog entries: their code and status, their message unless a better one is given', () => {
    expect(fail(USERS_ERRORS.CANNOT_DEMOTE_SELF)).toMatchObject({ code: 'CANNOT_DEMOTE_SELF', status: 409, message: USERS_ERRORS.CANNOT_DEMOTE_SELF.message });
    expect(fail(COMMON_ERRORS.TEAM_NOT_FOUND, 'No team with id x.', [], 422)).toMatchObject({ code: 'TEAM_NOT_FOUND', status: 422 });
    expect(failAt(COMMON_ERRORS.VALIDATION_FAILED, 'cursor', 'is not a cursor', 400)).toMatchObject({
      status: 400, message: 'cursor: is not a cursor', details: [{ path: 'cursor', problem: 'is not a cursor' }],
    });
  });

  it('finds a code thrown in source but missing from the catalog', () => {
    expect(unlisted(`throw new AppError('SOMETHING_NEW', 409, 'x');`)).toEqual(['SOMETHING_NEW']);
    expect(unlisted(`throw conflict('ALSO_NEW', 'x');`)).toEqual(['ALSO_NEW']);
    expect(unlisted(`if (!row) throw notFound('widget', id);`)).toEqual(['WIDGET_NOT_FOUND']);
    expect(unlisted(`await findInTenant(this.widgets, tenantId, id, 'widget part');`)).toEqual(['WIDGET_PART_NOT_FOUND']);
    expect(unlisted(`throw new AppError('SOP_INVALID', 422, 'x'); throw notFound('tag group', id);`)).toEqual([]);
    expect(thrownCodes(`new AppError(err.code, err.status, err.message)`).dynamic).toBe(1);
  });

  it('lists every code the API and the libraries throw', () => {
    const found = sources().map(({ file, text }) => ({ file, ...thrownCodes(text) }));
    expect(found.flatMap(({ file, codes }) => codes.filter((c) => !(c in API_ERRORS)).map((c) => `${file}: ${c}`))).toEqual([]);
    // AppErrors built from a variable code: the catalog's fail(), the domain's helpers, and re-thrown errors with new paths
    expect(found.filter((f) => f.dynamic).map((f) => `${f.file}: ${f.dynamic}`).sort()).toEqual([
      'apps/api/src/common/errors.catalog.ts: 1',
      'apps/api/src/modules/contacts/contacts.service.ts: 1',
      'libs/domain/src/errors.ts: 2',
    ]);
    expect(found.reduce((n, f) => n + f.codes.length, 0)).toBeGreaterThan(10);
  });
});
