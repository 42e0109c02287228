import { validationFailed } from '@sop/domain';

/** An Idempotency-Key header: 1 to 255 visible ASCII characters (it is kept in a unique index). */
const KEY = /^[\x21-\x7e]{1,255}$/;

/** The header's key, checked (400 naming the header), or undefined when none was sent. */
export function idempotencyKey(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (!KEY.test(raw)) throw validationFailed([{ path: 'Idempotency-Key', problem: 'must be 1 to 255 visible ASCII characters' }]);
  return raw;
}
