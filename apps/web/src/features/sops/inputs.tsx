import { Checkbox, InputNumber, Select, Space, TimePicker } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { useTranslation } from 'react-i18next';

const HM = 'HH:mm';
const toDayjs = (hm?: string) => (hm ? dayjs(hm, HM) : null);

/** A time window `{ start, end }` as two times of day (the API's `HH:MM`). */
export function WindowInput({ value, onChange, id, allowClear = false }: { value?: { start: string; end: string }; onChange?(v?: { start: string; end: string }): void; id?: string; allowClear?: boolean }) {
  return (
    <TimePicker.RangePicker
      id={id}
      format={HM}
      minuteStep={5}
      order={false}
      allowClear={allowClear}
      value={value ? [toDayjs(value.start), toDayjs(value.end)] : null}
      onChange={(v) => onChange?.(v?.[0] && v[1] ? { start: (v[0] as Dayjs).format(HM), end: (v[1] as Dayjs).format(HM) } : undefined)}
    />
  );
}

type Mode = 'daily' | 'weekly' | 'monthlyDay' | 'monthlyLast';
interface Rule { mode: Mode; time: string; weekdays: number[]; monthDay: number; lastWeekday: number }
const DAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];

/** Reads the RRULEs this builder writes; anything else starts as a daily rule at its time. */
export function parseRule(rrule: string | undefined): Rule {
  const parts = Object.fromEntries((rrule ?? '').split(';').map((p) => p.split('=')));
  const hour = String(parts.BYHOUR ?? '9').padStart(2, '0');
  const time = `${hour}:${String(parts.BYMINUTE ?? '0').padStart(2, '0')}`;
  const base: Rule = { mode: 'daily', time, weekdays: [4], monthDay: 1, lastWeekday: 4 };
  if (parts.FREQ === 'WEEKLY' && parts.BYDAY) return { ...base, mode: 'weekly', weekdays: parts.BYDAY.split(',').map((d: string) => DAYS.indexOf(d)).filter((i: number) => i >= 0) };
  if (parts.FREQ === 'MONTHLY' && parts.BYMONTHDAY) return { ...base, mode: 'monthlyDay', monthDay: Number(parts.BYMONTHDAY) };
  if (parts.FREQ === 'MONTHLY' && /^-1[A-Z]{2}$/.test(parts.BYDAY ?? '')) return { ...base, mode: 'monthlyLast', lastWeekday: DAYS.indexOf(parts.BYDAY.slice(2)) };
  return base;
}

export function writeRule(r: Rule): string {
  const [h, m] = r.time.split(':').map(Number);
  const at = `BYHOUR=${h};BYMINUTE=${m}`;
  if (r.mode === 'weekly') return `FREQ=WEEKLY;BYDAY=${[...r.weekdays].sort().map((i) => DAYS[i]).join(',') || 'MO'};${at}`;
  if (r.mode === 'monthlyDay') return `FREQ=MONTHLY;BYMONTHDAY=${r.monthDay};${at}`;
  if (r.mode === 'monthlyLast') return `FREQ=MONTHLY;BYDAY=-1${DAYS[r.lastWeekday]};${at}`;
  return `FREQ=DAILY;${at}`;
}

/** A recurring schedule without writing RRULE: daily, chosen weekdays, a day of the month, or its last Friday. */
export function RuleInput({ value, onChange, id }: { value?: string; onChange?(v: string): void; id?: string }) {
  const { t } = useTranslation('sops');
  const rule = parseRule(value);
  const set = (patch: Partial<Rule>) => onChange?.(writeRule({ ...rule, ...patch }));
  const names = t('editor.weekdayNames', { returnObjects: true }) as string[];
  return (
    <Space wrap id={id}>
      <Select<Mode> aria-label={t('editor.rule.freq')} style={{ width: 200 }} value={rule.mode} onChange={(mode) => set({ mode })} data-testid="rule-mode"
        options={(['daily', 'weekly', 'monthlyDay', 'monthlyLast'] as Mode[]).map((m) => ({ value: m, label: t(`editor.rule.${m}`) }))} />
      {rule.mode === 'weekly' && (
        <span role="group" aria-label={t('editor.rule.weekdays')} data-testid="rule-weekdays">
          <Checkbox.Group value={rule.weekdays} onChange={(v) => set({ weekdays: v as number[] })} options={names.map((label, i) => ({ value: i, label }))} />
        </span>
      )}
      {rule.mode === 'monthlyDay' && (
        <InputNumber aria-label={t('editor.rule.monthDay')} min={1} max={31} value={rule.monthDay} onChange={(v) => set({ monthDay: v ?? 1 })} />
      )}
      {rule.mode === 'monthlyLast' && (
        <Select<number> aria-label={t('editor.rule.lastWeekday')} style={{ width: 100 }} value={rule.lastWeekday} onChange={(lastWeekday) => set({ lastWeekday })}
          options={names.map((label, i) => ({ value: i, label }))} />
      )}
      <TimePicker aria-label={t('editor.rule.time')} format={HM} minuteStep={5} allowClear={false} value={toDayjs(rule.time)}
        onChange={(v) => v && set({ time: v.format(HM) })} data-testid="rule-time" />
    </Space>
  );
}
