import { dayName, kindOf, type Day } from './calendar-days';

const day = (date: string, working: boolean, name: string, source: Day['source'] = 'cn'): Day => ({ date, working, name, source });
const makeUp = (n: string) => `${n} make-up`;

describe('business calendar days as the month view marks them', () => {
  it('tells public holidays, make-up working days, weekends and the organization\'s own days apart', () => {
    expect(kindOf(day('2026-10-01', false, 'National Day / 国庆节'))).toBe('holiday');
    expect(kindOf(day('2026-09-20', true, 'National Day / 国庆节 (make-up working day 调休上班)'))).toBe('makeup'); // a Sunday
    expect(kindOf(day('2026-10-17', false, ''))).toBe('weekend');
    expect(kindOf(day('2026-10-16', true, ''))).toBe('workday');
    expect(kindOf(day('2027-10-01', false, 'National Day / 国庆节', 'cn-statutory'))).toBe('holiday');
    expect(kindOf(day('2026-10-16', false, '店庆', 'tenant'))).toBe('tenantOff');
    expect(kindOf(day('2026-10-17', true, '', 'tenant'))).toBe('tenantWork');
  });

  it('names a day in the viewer\'s language, keeping the organization\'s own words', () => {
    expect(dayName(day('2026-10-01', false, 'National Day / 国庆节'), 'zh', makeUp)).toBe('国庆节');
    expect(dayName(day('2026-10-01', false, 'National Day / 国庆节'), 'en', makeUp)).toBe('National Day');
    expect(dayName(day('2026-09-20', true, 'National Day / 国庆节 (make-up working day 调休上班)'), 'zh', makeUp)).toBe('国庆节 make-up');
    expect(dayName(day('2026-10-16', false, 'Store anniversary / 店庆', 'tenant'), 'en', makeUp)).toBe('Store anniversary / 店庆');
    expect(dayName(day('2026-10-16', true, ''), 'en', makeUp)).toBe('');
  });
});
