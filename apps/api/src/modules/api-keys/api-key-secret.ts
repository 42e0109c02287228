import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Keys look like `sop_<prefix>_<secret>`. The prefix finds the row; only a SHA-256 of the
 * secret is stored. 32 random bytes need no slow hash: they cannot be guessed from a digest.
 */
export function generateApiKey(): { key: string; prefix: string; secretHash: string } {
  const prefix = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { key: `sop_${prefix}_${secret}`, prefix, secretHash: digest(secret) };
}

export function parseApiKey(key: string): { prefix: string; secret: string } | null {
  const m = /^sop_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/.exec(key);
  return m ? { prefix: m[1], secret: m[2] } : null;
}

export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(digest(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

const digest = (secret: string) => createHash('sha256').update(secret).digest('hex');
