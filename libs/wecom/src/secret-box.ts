import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Secrets kept at rest (a tenant's WeCom secrets): AES-256-GCM under a key of WECOM_SECRET_KEYS (`id:secret`,
 * the first seals, every one opens, so the key rotates: put a new one first, re-save or let `reseal` move
 * rows, then drop the old). Sealed text: `v1.<key id>.<iv>.<tag>.<ciphertext>` (base64url).
 */
export class SecretBox {
  private readonly keys: Map<string, Buffer>;
  private readonly current: string;

  constructor(keys: { id: string; secret: string }[]) {
    if (!keys.length) throw new Error('SecretBox needs at least one key');
    this.keys = new Map(keys.map((k) => [k.id, createHash('sha256').update(k.secret).digest()]));
    this.current = keys[0].id;
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.current)!, iv);
    const ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v1', this.current, iv, cipher.getAuthTag(), ciphertext].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
  }

  open(sealed: string): string {
    const [version, id, iv, tag, ciphertext] = sealed.split('.');
    const key = this.keys.get(id);
    if (version !== 'v1' || !key) throw new Error(`a secret sealed with key "${id}", which is not in WECOM_SECRET_KEYS`);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  }

  /** Whether a sealed text is under the current key (else `seal(open(x))` moves it). */
  isCurrent(sealed: string): boolean {
    return sealed.split('.')[1] === this.current;
  }
}
