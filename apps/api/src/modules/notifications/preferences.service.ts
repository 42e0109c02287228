import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  mergePreferences, NOTIFICATION_KINDS, type NotificationPreferences, TARGET_KINDS, targetUrlProblem, UUID_PATTERN as UUID,
} from '@sop/domain';
import { DataSource } from 'typeorm';
import { fail, failAt, notFound } from '../../common/errors.catalog';
import { APP_CONFIG, type AppConfig } from '../../config/config';
import type { Principal } from '../../common/principal';
import { NOTIFICATIONS_ERRORS } from './notifications.errors';
import { personOf } from './notifications.service';
import { PreferencesRepository, type TargetRow } from './preferences.repository';
import type { CreateTargetDto, TargetDto, UpdateTargetDto } from './notifications.dto';

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
    private readonly preferences: PreferencesRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async get(caller: Principal): Promise<NotificationPreferences> {
    const row = await this.preferences.settings(caller.tenantId, personOf(caller));
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
    await this.preferences.savePreferences(caller.tenantId, personOf(caller), {
      locale: next.locale, timezone: next.timezone, channels: next.channels.filter((c) => c !== 'in_app'), digestTime: next.digestTime,
      quietStart: next.quietHours?.start ?? null, quietEnd: next.quietHours?.end ?? null, dueSoonMinutes: next.dueSoonMinutes,
      kindsOff: NOTIFICATION_KINDS.filter((k) => !next.kinds[k]),
    });
    return this.get(caller);
  }

  async listTargets(caller: Principal): Promise<TargetDto[]> {
    return (await this.preferences.targets(caller.tenantId, personOf(caller))).map(toTargetDto);
  }

  async createTarget(caller: Principal, dto: CreateTargetDto): Promise<TargetDto> {
    if (!(TARGET_KINDS as readonly string[]).includes(dto.kind)) throw targetInvalid('kind', `must be one of ${TARGET_KINDS.join(', ')}`);
    this.checkTarget(dto.kind, dto.url, dto.secret);
    return this.db.transaction(async (m) => {
      // one at a time per user, so the cap holds under concurrent creates
      await this.preferences.lockPerson(m, personOf(caller));
      // the same robot twice would get every reminder twice: a repeated request answers the first target
      const same = await this.preferences.targetAt(m, caller.userId!, dto.kind, dto.url);
      if (same) {
        if (same.name === (dto.name?.trim() ?? '') && same.secret === (dto.secret || null)) return toTargetDto(same);
        throw fail(NOTIFICATIONS_ERRORS.TARGET_EXISTS, `url: you have this ${dto.kind} target already (${same.id}): change that one instead`,
          [{ path: 'url', problem: `already registered as target ${same.id}` }]);
      }
      const n = await this.preferences.countTargets(m, caller.userId!);
      if (n >= MAX_TARGETS) throw fail(NOTIFICATIONS_ERRORS.TOO_MANY_TARGETS, `You have ${MAX_TARGETS} targets already: remove one first.`);
      const row = await this.preferences.insertTarget(m, caller.tenantId, caller.userId!, {
        kind: dto.kind, name: dto.name?.trim() ?? '', url: dto.url, secret: dto.secret || null,
      });
      return toTargetDto(row);
    });
  }

  async updateTarget(caller: Principal, id: string, dto: UpdateTargetDto): Promise<TargetDto> {
    const current = await this.findTarget(caller, id);
    const url = dto.url ?? current.url;
    const secret = dto.secret === undefined ? current.secret : dto.secret || null;
    this.checkTarget(current.kind, url, secret ?? undefined);
    const row = await this.preferences.updateTarget(caller.tenantId, caller.userId!, id, { name: dto.name?.trim() ?? current.name, url, secret });
    return toTargetDto(row);
  }

  /** Removes a target and its deliveries not yet sent; a repeat answers 404. */
  async deleteTarget(caller: Principal, id: string): Promise<void> {
    await this.findTarget(caller, id);
    await this.preferences.deleteTarget(caller.tenantId, caller.userId!, id);
  }

  private async findTarget(caller: Principal, id: string): Promise<TargetRow> {
    if (!UUID.test(id)) throw notFound('notification target', id);
    const row = await this.preferences.target(caller.tenantId, personOf(caller), id.toLowerCase());
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
