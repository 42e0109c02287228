import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  type NotifyChannel, mergePreferences, NOTIFICATION_KINDS, type NotificationPreferences, TARGET_KINDS, targetUrlProblem, UUID_PATTERN as UUID,
} from '@sop/domain';
import { DataSource } from 'typeorm';
import { fail, failAt, notFound } from '../../common/errors.catalog';
import { APP_CONFIG, type AppConfig } from '../../config/config';
import type { Principal } from '../../common/principal';
import { NOTIFICATIONS_ERRORS } from './notifications.errors';
import { personOf } from './notifications.service';
import type { CreateTargetDto, TargetDto, UpdateTargetDto } from './notifications.dto';

interface SettingsRow {
  locale: 'zh' | 'en'; timezone: string; channels: NotifyChannel[]; digest_time: string; quiet_start: string | null; quiet_end: string | null;
  due_soon_minutes: number; kinds_off: string[];
}

interface TargetRow { id: string; kind: string; name: string; url: string; secret: string | null; created_at: Date }

const MAX_TARGETS = 20;
const hhmm = (t: string) => t.slice(0, 5);

const toTargetDto = (r: TargetRow): TargetDto => ({
  id: r.id, kind: r.kind, name: r.name, url: r.url, secretHint: r.secret ? `••••${r.secret.slice(-4)}` : null, createdAt: r.created_at,
});

const targetInvalid = (path: string, problem: string) => failAt(NOTIFICATIONS_ERRORS.TARGET_INVALID, path, problem);

/** A user's own notification preferences and webhook targets; defaults come from the user_notification_settings view. */
@Injectable()
export class PreferencesService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async get(caller: Principal): Promise<NotificationPreferences> {
    const [row]: SettingsRow[] = await this.db.query(
      `SELECT locale, timezone, channels, digest_time::text, quiet_start::text, quiet_end::text, due_soon_minutes, kinds_off
         FROM user_notification_settings WHERE tenant_id = $1 AND user_id = $2`, [caller.tenantId, personOf(caller)]);
    if (!row) throw notFound('user', caller.userId!);
    return {
      locale: row.locale, timezone: row.timezone, channels: ['in_app', ...row.channels], digestTime: hhmm(row.digest_time),
      quietHours: row.quiet_start && row.quiet_end ? { start: hhmm(row.quiet_start), end: hhmm(row.quiet_end) } : null,
      dueSoonMinutes: row.due_soon_minutes, kinds: Object.fromEntries(NOTIFICATION_KINDS.map((k) => [k, !row.kinds_off.includes(k)])) as NotificationPreferences['kinds'],
    };
  }

  /** Fields left out keep their value; a repeat writes the same row. */
  async update(caller: Principal, change: Record<string, unknown>): Promise<NotificationPreferences> {
    const next = mergePreferences(await this.get(caller), change);
    await this.db.query(
      `INSERT INTO notification_preferences (user_id, tenant_id, locale, timezone, channels, digest_time, quiet_start, quiet_end, due_soon_minutes, kinds_off)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (user_id) DO UPDATE SET locale = EXCLUDED.locale, timezone = EXCLUDED.timezone, channels = EXCLUDED.channels,
         digest_time = EXCLUDED.digest_time, quiet_start = EXCLUDED.quiet_start, quiet_end = EXCLUDED.quiet_end,
         due_soon_minutes = EXCLUDED.due_soon_minutes, kinds_off = EXCLUDED.kinds_off, updated_at = now()`,
      [personOf(caller), caller.tenantId, next.locale, next.timezone, next.channels.filter((c) => c !== 'in_app'), next.digestTime,
        next.quietHours?.start ?? null, next.quietHours?.end ?? null, next.dueSoonMinutes,
        NOTIFICATION_KINDS.filter((k) => !next.kinds[k])]);
    return this.get(caller);
  }

  async listTargets(caller: Principal): Promise<TargetDto[]> {
    const rows: TargetRow[] = await this.db.query(
      `SELECT id, kind, name, url, secret, created_at FROM notification_targets WHERE tenant_id = $1 AND user_id = $2 ORDER BY created_at, id`,
      [caller.tenantId, personOf(caller)]);
    return rows.map(toTargetDto);
  }

  async createTarget(caller: Principal, dto: CreateTargetDto): Promise<TargetDto> {
    if (!(TARGET_KINDS as readonly string[]).includes(dto.kind)) throw targetInvalid('kind', `must be one of ${TARGET_KINDS.join(', ')}`);
    this.checkTarget(dto.kind, dto.url, dto.secret);
    return this.db.transaction(async (m) => {
      // one at a time per user, so the cap holds under concurrent creates
      await m.query(`SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, [personOf(caller)]);
      // the same robot twice would get every reminder twice: a repeated request answers the first target
      const [same]: TargetRow[] = await m.query(
        `SELECT id, kind, name, url, secret, created_at FROM notification_targets WHERE user_id = $1 AND kind = $2 AND url = $3`,
        [caller.userId, dto.kind, dto.url]);
      if (same) {
        if (same.name === (dto.name?.trim() ?? '') && same.secret === (dto.secret || null)) return toTargetDto(same);
        throw fail(NOTIFICATIONS_ERRORS.TARGET_EXISTS, `url: you have this ${dto.kind} target already (${same.id}): change that one instead`,
          [{ path: 'url', problem: `already registered as target ${same.id}` }]);
      }
      const [{ n }] = await m.query(`SELECT count(*)::int AS n FROM notification_targets WHERE user_id = $1`, [caller.userId]);
      if (n >= MAX_TARGETS) throw fail(NOTIFICATIONS_ERRORS.TOO_MANY_TARGETS, `You have ${MAX_TARGETS} targets already: remove one first.`);
      const [row]: TargetRow[] = await m.query(
        `INSERT INTO notification_targets (tenant_id, user_id, kind, name, url, secret) VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING id, kind, name, url, secret, created_at`,
        [caller.tenantId, caller.userId, dto.kind, dto.name?.trim() ?? '', dto.url, dto.secret || null]);
      return toTargetDto(row);
    });
  }

  async updateTarget(caller: Principal, id: string, dto: UpdateTargetDto): Promise<TargetDto> {
    const current = await this.findTarget(caller, id);
    const url = dto.url ?? current.url;
    const secret = dto.secret === undefined ? current.secret : dto.secret || null;
    this.checkTarget(current.kind, url, secret ?? undefined);
    const [[row]]: [TargetRow[]] = await this.db.query(
      `UPDATE notification_targets SET name = $4, url = $5, secret = $6 WHERE tenant_id = $1 AND user_id = $2 AND id = $3
       RETURNING id, kind, name, url, secret, created_at`,
      [caller.tenantId, caller.userId, id, dto.name?.trim() ?? current.name, url, secret]);
    return toTargetDto(row);
  }

  /** Removes a target and its deliveries not yet sent; a repeat answers 404. */
  async deleteTarget(caller: Principal, id: string): Promise<void> {
    await this.findTarget(caller, id);
    await this.db.query(`DELETE FROM notification_targets WHERE tenant_id = $1 AND user_id = $2 AND id = $3`, [caller.tenantId, caller.userId, id]);
  }

  private async findTarget(caller: Principal, id: string): Promise<TargetRow> {
    if (!UUID.test(id)) throw notFound('notification target', id);
    const [row]: TargetRow[] = await this.db.query(
      `SELECT id, kind, name, url, secret, created_at FROM notification_targets WHERE tenant_id = $1 AND user_id = $2 AND id = $3`,
      [caller.tenantId, personOf(caller), id.toLowerCase()]);
    if (!row) throw notFound('notification target', id);
    return row;
  }

  private checkTarget(kind: string, url: string, secret: string | undefined): void {
    const problem = targetUrlProblem(url, this.config.notifyInsecureTargetHosts);
    if (problem) throw targetInvalid('url', problem);
    if (kind === 'webhook' && !secret) throw targetInvalid('secret', 'a webhook needs a signing secret');
    if (kind === 'wecom' && secret) throw targetInvalid('secret', 'WeCom robots are not signed: leave it out');
  }
}
