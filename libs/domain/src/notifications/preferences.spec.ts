import { AppError } from '../errors';
import { isInternalHost, mergePreferences, type NotificationPreferences, targetUrlProblem } from './preferences';

const DEFAULTS: NotificationPreferences = {
  locale: 'zh', timezone: 'Asia/Shanghai', channels: ['in_app', 'email'], digestTime: '08:30', quietHours: null, dueSoonMinutes: 30,
  kinds: { digest: true, due_soon: true, escalation: true, material_opened: true, manager_digest: true },
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

  it('refuses targets on the server\'s own or a private network (SSRF), unless the deployment allows the host', () => {
    const internal = 'must be a public host, not a loopback, private or link-local address';
    for (const url of [
      'https://127.0.0.1/hook', 'https://127.1/hook', 'https://2130706433/hook', 'https://0x7f000001/hook', 'https://localhost:8443/hook',
      'https://api.localhost/hook', 'https://169.254.169.254/latest/meta-data/', 'https://10.0.0.5/hook', 'https://172.16.3.4/hook',
      'https://192.168.1.1/hook', 'https://100.64.0.1/hook', 'https://0.0.0.0/hook', 'https://[::1]/hook', 'https://[::ffff:127.0.0.1]/hook',
      'https://[fd00::1]/hook', 'https://[fe80::1]/hook', 'https://metadata.google.internal/computeMetadata/v1/', 'https://intranet/hook',
    ]) {
      expect([url, targetUrlProblem(url, [])]).toEqual([url, internal]);
    }
    expect(targetUrlProblem('https://user:pw@hooks.example/in', [])).toBe('must not carry a user name or password');
    expect(targetUrlProblem('https://127.0.0.1:8443/hook', ['127.0.0.1'])).toBeNull();
    expect(targetUrlProblem('https://8.8.8.8/hook', [])).toBeNull();
    expect(isInternalHost('[::ffff:10.1.2.3]')).toBe(true);
    expect(isInternalHost('[::ffff:7f00:1]')).toBe(true);
    expect(isInternalHost('[::ffff:8.8.8.8]')).toBe(false);
    expect(targetUrlProblem('https://[2001:4860:4860::8888]/hook', [])).toBeNull();
    expect(targetUrlProblem('https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x', [])).toBeNull();
  });
});
