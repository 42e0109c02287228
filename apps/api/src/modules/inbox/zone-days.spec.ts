import { ZoneDays } from './zone-days';

describe('ZoneDays', () => {
  it('gives the day in the zone, kept until it ends, then the next one', () => {
    const days = new ZoneDays();
    // 23:59:59 in Shanghai on 6 December
    const late = days.dayOf('Asia/Shanghai', new Date('2026-12-06T15:59:59Z'));
    expect(late).toEqual({ todayStart: new Date('2026-12-05T16:00:00Z'), todayEnd: new Date('2026-12-06T16:00:00Z') });
    expect(days.dayOf('Asia/Shanghai', new Date('2026-12-06T03:00:00Z'))).toBe(late);
    expect(days.dayOf('Asia/Shanghai', new Date('2026-12-06T16:00:00Z')))
      .toEqual({ todayStart: new Date('2026-12-06T16:00:00Z'), todayEnd: new Date('2026-12-07T16:00:00Z') });
    // a clock set back (another zone's caller, a test) still gets its own day
    expect(days.dayOf('Asia/Shanghai', new Date('2026-12-01T00:00:00Z')).todayStart).toEqual(new Date('2026-11-30T16:00:00Z'));
  });

  it('keeps each zone apart and follows daylight saving (a 23-hour day in New York)', () => {
    const days = new ZoneDays();
    expect(days.dayOf('America/New_York', new Date('2026-03-08T12:00:00Z')))
      .toEqual({ todayStart: new Date('2026-03-08T05:00:00Z'), todayEnd: new Date('2026-03-09T04:00:00Z') });
    expect(days.dayOf('Asia/Shanghai', new Date('2026-03-08T12:00:00Z')).todayStart).toEqual(new Date('2026-03-07T16:00:00Z'));
  });
});
