import { AppError } from '../errors';
import { mergePreferences, type NotificationPreferences, targetUrlProblem } from './preferences';

const DEFAULTS: NotificationPreferences = {
  locale: 'zh', timezone: 'Asia/Shanghai', channels: ['in_app', 'email'], digestTime: '08:30', quietHours: null, dueSoonMinutes: 30,
  kinds: { digest: true, due_soon: true, escalation: true, material_opened: true },
};

function problems(change: unknown): Record<string, string> {
  try {
    mergePreferences(DEFAULTS, change);
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).status).toBe(422);
    return Object.fromEntries((err as AppError).details!.map((d) => [d.path, d.problem]));
  }
  throw new Error('no problem found');
}

describe('notification preferences', () => {
  it('keeps what a change leaves out, keeps in_app on and orders channels', () => {
    expect(mergePreferences(DEFAULTS, { channels: ['feishu', 'email'], kinds: { digest: false } })).toEqual({
      ...DEFAULTS, channels: ['in_app', 'email', 'feishu'], kinds: { ...DEFAULTS.kinds, digest: false },
    });
    expect(mergePreferences(DEFAULTS, { quietHours: { start: '22:00', end: '08:00' } }).quietHours).toEqual({ start: '22:00', end: '08:00' });
    expect(mergePreferences({ ...DEFAULTS, quietHours: { start: '22:00', end: '08:00' } }, { quietHours: null }).quietHours).toBeNull();
    expect(mergePreferences(DEFAULTS, {})).toEqual(DEFAULTS);
  });

  it('names every bad field', () => {
    expect(problems({ timezone: 'Mars/Olympus' })).toEqual({ timezone: 'must be an IANA time zone, e.g. Asia/Shanghai' });
    expect(Object.keys(problems({ digestTime: '8:30', locale: 'fr', channels: ['sms'], dueSoonMinutes: 1.5, kinds: { digest: 'no' } })).sort())
      .toEqual(['channels[0]', 'digestTime', 'dueSoonMinutes', 'kinds.digest', 'locale']);
    expect(problems({ quietHours: { start: '23:00' } })).toHaveProperty(['quietHours.end']);
    expect(problems({ kinds: { weekly: true } })).toHaveProperty(['kinds']);
  });

  it('wants https for targets, except plain http to hosts the deployment allows', () => {
    expect(targetUrlProblem('https://oapi.dingtalk.com/robot/send?access_token=x', [])).toBeNull();
    expect(targetUrlProblem('http://oapi.dingtalk.com/robot/send', [])).toBe('must be an https:// URL');
    expect(targetUrlProblem('http://127.0.0.1:8080/hook', ['127.0.0.1'])).toBeNull();
    expect(targetUrlProblem('ftp://127.0.0.1/hook', ['127.0.0.1'])).toBe('must be an https:// URL');
    expect(targetUrlProblem('robots', [])).toBe('must be an absolute URL');
  });
});
