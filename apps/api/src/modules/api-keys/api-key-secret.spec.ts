import { generateApiKey, parseApiKey, secretMatches } from './api-key-secret';

describe('api key secrets', () => {
  it('round-trips a generated key and matches only its own secret', () => {
    const { key, prefix, secretHash } = generateApiKey();
    const parsed = parseApiKey(key);
    expect(parsed?.prefix).toBe(prefix);
    expect(secretMatches(parsed!.secret, secretHash)).toBe(true);
    const other = generateApiKey();
    expect(secretMatches(parseApiKey(other.key)!.secret, secretHash)).toBe(false);
    expect(secretHash).not.toContain(parsed!.secret);
  });

  it('rejects malformed keys', () => {
    for (const bad of ['', 'sop_', 'sop_abc_def', `xyz_${'a'.repeat(12)}_${'b'.repeat(43)}`]) {
      expect(parseApiKey(bad)).toBeNull();
    }
  });
});
