import { AppError } from '@sop/domain';
import { decodeCursor, encodeCursor } from './pagination';

const raw = (text: string) => Buffer.from(text).toString('base64url');
const refused = (cursor: string, pattern?: RegExp) => {
  try {
    decodeCursor(cursor, pattern);
    return 'accepted';
  } catch (err) {
    return (err as AppError).status;
  }
};

describe('keyset cursors', () => {
  it('reads back what it wrote', () => {
    const at = new Date('2026-11-23T08:30:00.123Z');
    expect(decodeCursor(encodeCursor(at, '0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d'))).toEqual([at.toISOString(), '0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d']);
    expect(decodeCursor(encodeCursor(at, '42'), /^[1-9]\d{0,17}$/)).toEqual([at.toISOString(), '42']);
  });

  it('answers 400 for cursors Postgres would refuse (not a 500)', () => {
    expect(refused(raw('1|0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d'))).toBe(400);
    expect(refused(raw('May 5|0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d'))).toBe(400);
    expect(refused(raw(`2026-11-23T08:30:00.123Z|${'-'.repeat(36)}`))).toBe(400);
    expect(refused(raw('2026-11-23T08:30:00.123Z|0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d|x'))).toBe(400);
    expect(refused(raw('2026-13-45T08:30:00.123Z|42'), /^\d+$/)).toBe(400);
  });
});
