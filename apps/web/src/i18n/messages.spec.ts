import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { common } from './common';
import { ERROR_TEXTS } from './error-texts';

/** Every text exists in both languages: the same keys, none empty. */
function keys(tree: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([k, v]) => {
    const path = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object') return keys(v as Record<string, unknown>, path);
    expect(typeof v === 'string' && v.trim().length > 0 ? path : `${path} is empty`).toBe(path);
    return [path];
  });
}

const featureDir = join(__dirname, '../features');
const featureMessages = readdirSync(featureDir, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('messages.ts'))
  .map((f) => [f, join(featureDir, f)] as const);

describe('console texts', () => {
  it.each<readonly [string, string]>([['common', ''], ...featureMessages])('%s has the same keys in Chinese and English', async (_name, file) => {
    const messages = file ? (await import(file)).messages : common;
    expect(keys(messages.en).sort()).toEqual(keys(messages.zh).sort());
  });

  it('every error code has Chinese and English text', () => {
    for (const [code, text] of Object.entries(ERROR_TEXTS)) {
      expect([code, Boolean(text.zh?.trim()), Boolean(text.en?.trim())]).toEqual([code, true, true]);
    }
  });
});
