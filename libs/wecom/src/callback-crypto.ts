import { createDecipheriv, createHash, timingSafeEqual } from 'node:crypto';

/**
 * WeCom's callback encryption, as its reference ("加解密方案说明") describes it: the message signature is the
 * SHA-1 of the token, timestamp, nonce and ciphertext sorted and joined; the ciphertext is AES-256-CBC under
 * the EncodingAESKey (43 base64 characters + "="), IV = the key's first 16 bytes, PKCS#7 padded to 32 bytes,
 * over 16 random bytes, the message length (4 bytes, big-endian), the message and the receive id (the corp id).
 * Held to WeCom's official @wecom/crypto by test/integration/wecom-connection.test.ts, which encrypts with it.
 */
export function callbackSignature(token: string, timestamp: string, nonce: string, encrypted: string): string {
  return createHash('sha1').update([token, timestamp, nonce, encrypted].sort().join('')).digest('hex');
}

export function signatureMatches(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** An EncodingAESKey: 43 characters of base64 (the "=" is implied). */
export const ENCODING_AES_KEY = /^[A-Za-z0-9+/]{43}$/;

export class WecomDecryptError extends Error {}

/** The message and receive id inside a ciphertext; throws WecomDecryptError when it is not one of ours. */
export function decryptCallback(encodingAesKey: string, encrypted: string): { message: string; receiveId: string } {
  const key = Buffer.from(`${encodingAesKey}=`, 'base64');
  if (key.length !== 32) throw new WecomDecryptError('the EncodingAESKey is not 43 base64 characters');
  let plain: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
    decipher.setAutoPadding(false);
    plain = Buffer.concat([decipher.update(Buffer.from(encrypted, 'base64')), decipher.final()]);
  } catch {
    throw new WecomDecryptError('the ciphertext does not decrypt');
  }
  const pad = plain[plain.length - 1];
  if (!pad || pad > 32 || plain.length < 20 + pad) throw new WecomDecryptError('the padding is not PKCS#7 to 32 bytes');
  const body = plain.subarray(16, plain.length - pad);
  const length = body.readUInt32BE(0);
  if (length > body.length - 4) throw new WecomDecryptError('the message length is out of range');
  return { message: body.subarray(4, 4 + length).toString('utf8'), receiveId: body.subarray(4 + length).toString('utf8') };
}
