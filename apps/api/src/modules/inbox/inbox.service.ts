import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { AppError } from '@sop/domain';
import { completeTaskWithOutcome, type Queryable } from '@sop/engine';
import { DateTime } from 'luxon';
import { DataSource } from 'typeorm';
import { lacksPerson } from '../../common/access/roles';
import { mayHandTaskTo, taskAccess, visibleExecutors } from '../../common/access/tasks';
import { fail, failAt, notFound } from '../../common/errors.catalog';
import { decodeCursor, encodeCursor } from '../../common/pagination';
import type { Principal } from '../../common/principal';
import { LinksService } from '../links/links.service';
import {
  type BulkCompleteDto, type BulkResultDto, type CompleteDto, type CountsDto, type InboxList, type InboxSopDto, type InboxQuery, type ReassignDto, type SkipDto,
  OUTCOMES, type MaterialDto, type SnoozeDto, TASK_ID, type TaskDetailDto, type TaskDto, type TaskPageDto,
} from './inbox.dto';
import { INBOX_ERRORS } from './inbox.errors';
import { preparedShape } from '@sop/db';

interface TaskRow {
  id: string; sop_id: string; sop_name: string; step_index: number; contact_id: string | null; contact_name: string | null;
  group_id: string | null; group_name: string | null; executor_id: string | null; executor_name: string | null; channel: string; content: string; materials: MaterialDto[];
  due_at: Date; due_until: Date; status: string; outcome: string | null; note: string | null; snoozed_until: Date | null;
  finished_at: Date | null; tenant_id: string; wecom_send_state: string | null; wecom_mass_send_id?: string | null;
}

const toDto = (r: TaskRow): TaskDto => ({
  id: r.id, sopId: r.sop_id, sopName: r.sop_name, stepIndex: r.step_index, contactId: r.contact_id, contactName: r.contact_name,
  groupId: r.group_id, groupName: r.group_name, executorId: r.executor_id, executorName: r.executor_name, channel: r.channel, content: r.content, materials: r.materials,
  dueAt: r.due_at, dueUntil: r.due_until, status: r.status, outcome: r.outcome, note: r.note, snoozedUntil: r.snoozed_until,
  finishedAt: r.finished_at, onTime: r.status === 'done' && r.finished_at ? r.finished_at <= r.due_until : null,
  wecomSendState: r.wecom_send_state ?? null,
});

const TASK_NAMES = `SELECT t.*, t.id::text AS id, s.name AS sop_name, c.name AS contact_name, g.name AS group_name, u.name AS executor_name
  FROM %TASKS% t JOIN sops s ON s.id = t.sop_id LEFT JOIN contacts c ON c.id = t.contact_id LEFT JOIN customer_groups g ON g.id = t.group_id
  LEFT JOIN users u ON u.id = t.executor_id`;
const SELECT_TASK = TASK_NAMES.replace('%TASKS%', 'tasks');
/** What a list item shows: a page reads only these, as every column read is formatted by Postgres and parsed here. */
const LIST_COLUMNS = `id, sop_id, step_index, contact_id, group_id, executor_id, channel, content, materials, due_at, due_until, status, outcome,
  note, snoozed_until, finished_at, wecom_send_state`;

/** How each list is ordered: today by the closing window (what must be done first), done newest first. */
const LIST_ORDER: Record<InboxList, { at: 'due_at' | 'due_until' | 'finished_at'; dir: 'ASC' | 'DESC' }> = {
  today: { at: 'due_until', dir: 'ASC' }, overdue: { at: 'due_at', dir: 'ASC' }, upcoming: { at: 'due_at', dir: 'ASC' }, done: { at: 'finished_at', dir: 'DESC' },
};


/**
 * The employee's task inbox. Employees see and act on their own tasks (another's answers 404, as if it
 * did not exist); managers on their own and their teams' (another team's answers 403); admins and ops on
 * the tenant's. Every action is idempotent: repeating it answers the same task and records nothing new.
 */
@Injectable()
export class InboxService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly links: LinksService,
  ) {}

  async list(caller: Principal, q: InboxQuery): Promise<TaskPageDto> {
    const executors = await this.visibleExecutors(caller, q.executorId);
    const { now, todayEnd } = this.bounds(q.tz);
    const params: unknown[] = [caller.tenantId];
    const p = (v: unknown) => `$${params.push(v)}`;
    // Only the bounds a list uses become parameters (Postgres refuses parameters a statement does not use).
    const refs: { now?: string; end?: string } = {};
    const bounds: Bounds = { get now() { return (refs.now ??= p(now)); }, get end() { return (refs.end ??= p(todayEnd)); } };
    const where = [`t.tenant_id = $1`, LIST_WHERE[q.list](bounds)];
    // One person (an employee's own list) compares by equality, so the index's due-time order serves the
    // ORDER BY and LIMIT directly; with ANY(...) Postgres reads all of the person's tasks and sorts them.
    if (executors?.length === 1) where.push(`t.executor_id = ${p(executors[0])}`);
    else if (executors) where.push(`t.executor_id = ANY(${p(executors)}::uuid[])`);
    if (q.sopId) where.push(`t.sop_id = ${p(q.sopId)}`);
    if (q.channel) where.push(`t.channel = ${p(q.channel)}`);
    if (q.contactId) where.push(`t.contact_id = ${p(q.contactId)}`);
    if (q.groupId) where.push(`t.group_id = ${p(q.groupId)}`);
    const { at, dir } = LIST_ORDER[q.list];
    if (q.cursor) {
      const [after, id] = decodeCursor(q.cursor, TASK_ID);
      where.push(`(t.${at}, t.id) ${dir === 'ASC' ? '>' : '<'} (${p(after)}::timestamptz, ${p(id)}::bigint)`);
    }
    // The page is cut from tasks alone, then named: joining first would look up names for every task the
    // list scans, not just the page's.
    const order = `ORDER BY t.${at} ${dir}, t.id ${dir}`;
    const page = `(SELECT ${LIST_COLUMNS} FROM tasks t WHERE ${where.join(' AND ')} ${order} LIMIT ${q.limit + 1})`;
    // a list runs hundreds of times a second: planned once per connection and shape, not on every request
    const rows = await preparedShape<TaskRow>(this.db, 'inbox.list', `${TASK_NAMES.replace('%TASKS%', page)} ${order}`, params);
    const items = rows.slice(0, q.limit).map(toDto);
    const last = rows.length > q.limit ? rows[q.limit - 1] : undefined;
    return { items, nextCursor: last ? encodeCursor(last[at]!, last.id) : null };
  }

  async counts(caller: Principal, executorId: string | undefined, tz: string): Promise<CountsDto> {
    const executors = await this.visibleExecutors(caller, executorId);
    const { now, todayEnd, todayStart } = this.bounds(tz);
    const b: Bounds = { now: '$2', end: '$3' };
    const [row] = await this.db.query(
      `SELECT count(*) FILTER (WHERE ${LIST_WHERE.today(b)})::int AS today, count(*) FILTER (WHERE ${LIST_WHERE.overdue(b)})::int AS overdue,
              count(*) FILTER (WHERE ${LIST_WHERE.upcoming(b)})::int AS upcoming,
              count(*) FILTER (WHERE ${LIST_WHERE.done(b)} AND t.finished_at >= $5)::int AS done
         FROM tasks t WHERE t.tenant_id = $1 AND ($4::uuid[] IS NULL OR t.executor_id = ANY($4::uuid[]))
          AND (t.status = 'pending' OR t.finished_at >= $5)`,
      [caller.tenantId, now, todayEnd, executors, todayStart],
    );
    return row;
  }

  async sops(caller: Principal, executorId: string | undefined): Promise<InboxSopDto[]> {
    const executors = await this.visibleExecutors(caller, executorId);
    return this.db.query(
      `SELECT s.id, s.name, t.pending FROM sops s
         JOIN (SELECT sop_id, count(*)::int AS pending FROM tasks
                WHERE tenant_id = $1 AND status = 'pending' AND ($2::uuid[] IS NULL OR executor_id = ANY($2::uuid[])) GROUP BY sop_id) t ON t.sop_id = s.id
        WHERE s.tenant_id = $1 ORDER BY t.pending DESC, s.name LIMIT 200`,
      [caller.tenantId, executors],
    );
  }

  async detail(caller: Principal, id: string): Promise<TaskDetailDto> {
    const task = await this.visibleTask(this.db, caller, id);
    const [tags, history, lastResponses, refusal] = await Promise.all([
      task.contact_id ? this.db.query(
        `SELECT t.name FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id WHERE ct.contact_id = $1 ORDER BY t.name`, [task.contact_id]) : [],
      this.db.query(`SELECT action, actor_id AS "actorId", detail, created_at AS "at" FROM task_events WHERE task_id = $1 ORDER BY id`, [id]),
      task.contact_id ? this.db.query(
        `SELECT json_strip_nulls(json_build_object('kind', kind, 'source', source, 'outcome', outcome, 'name', name, 'material', material,
                'at', occurred_at)) AS r
           FROM responses WHERE tenant_id = $1 AND contact_id = $2 ORDER BY occurred_at DESC, id DESC LIMIT 5`,
        [task.tenant_id, task.contact_id]) : [],
      task.wecom_send_state === 'failed' && task.wecom_mass_send_id ? this.db.query(
        `SELECT error FROM wecom_mass_sends WHERE tenant_id = $1 AND id = $2`, [task.tenant_id, task.wecom_mass_send_id]) : [],
    ]);
    const materials = task.materials.map((m, i) => ({ ...m, trackedPath: this.links.path(task.tenant_id, task.id, i) }));
    return {
      ...toDto(task), materials, contactTags: tags.map((t: { name: string }) => t.name), history,
      lastResponses: lastResponses.map((x: { r: unknown }) => x.r), wecomSendError: refusal[0]?.error ?? null,
    };
  }

  /**
   * Done with an outcome: the contact's contacted and responded times follow, so silence and reply exits stay
   * true, and the outcome is recorded as a response, which the tenant's response rules turn into tags.
   */
  async complete(caller: Principal, id: string, dto: CompleteDto): Promise<TaskDto> {
    if (!OUTCOMES.includes(dto.outcome)) {
      throw failAt(INBOX_ERRORS.INVALID_OUTCOME, 'outcome', `must be one of ${OUTCOMES.join(', ')}`);
    }
    return this.db.transaction(async (m) => {
      const task = await this.visibleTask(m, caller, id, 'FOR UPDATE OF t');
      if (task.status === 'done' && task.outcome === dto.outcome) return toDto(task);
      this.assertPending(task, 'completed');
      // the same path as WeCom's confirmed mass-sends (libs/engine), so every completion is counted alike
      await completeTaskWithOutcome(m, task, dto.outcome, {
        note: dto.note ?? null, actorId: caller.userId, detail: caller.apiKeyId ? { apiKeyId: caller.apiKeyId } : {},
      });
      return this.reread(m, task.id);
    });
  }

  async skip(caller: Principal, id: string, dto: SkipDto): Promise<TaskDto> {
    return this.db.transaction(async (m) => {
      const task = await this.visibleTask(m, caller, id, 'FOR UPDATE OF t');
      if (task.status === 'skipped') return toDto(task);
      this.assertPending(task, 'skipped');
      await m.query(`UPDATE tasks SET status = 'skipped', skip_reason = $2, finished_at = now(), snoozed_until = NULL WHERE id = $1 AND tenant_id = $3`,
        [id, dto.reason.trim(), caller.tenantId]);
      await this.record(m, caller, task, 'skipped', { reason: dto.reason.trim() });
      return this.reread(m, id);
    });
  }

  async snooze(caller: Principal, id: string, dto: SnoozeDto): Promise<TaskDto> {
    const until = new Date(dto.until);
    if (until <= new Date()) throw failAt(INBOX_ERRORS.SNOOZE_IN_PAST, 'until', 'must be in the future');
    return this.db.transaction(async (m) => {
      const task = await this.visibleTask(m, caller, id, 'FOR UPDATE OF t');
      if (task.snoozed_until?.getTime() === until.getTime()) return toDto(task);
      this.assertPending(task, 'snoozed');
      await m.query(`UPDATE tasks SET snoozed_until = $2 WHERE id = $1 AND tenant_id = $3`, [id, until, caller.tenantId]);
      await this.record(m, caller, task, 'snoozed', { until });
      return this.reread(m, id);
    });
  }

  /** Employees hand a task to a teammate; managers within the teams they manage; admins and ops to anyone active. */
  async reassign(caller: Principal, id: string, dto: ReassignDto): Promise<TaskDto> {
    return this.db.transaction(async (m) => {
      const task = await this.visibleTask(m, caller, id, 'FOR UPDATE OF t');
      if (task.executor_id === dto.executorId) return toDto(task);
      this.assertPending(task, 'reassigned');
      const allowed = await mayHandTaskTo(m, caller, dto.executorId);
      if (allowed === undefined) throw failAt(INBOX_ERRORS.EXECUTOR_NOT_FOUND, 'executorId', 'no active user with that id');
      if (!allowed) throw fail(INBOX_ERRORS.REASSIGN_NOT_ALLOWED);
      await m.query(`UPDATE tasks SET executor_id = $2 WHERE id = $1 AND tenant_id = $3`, [id, dto.executorId, caller.tenantId]);
      await this.record(m, caller, task, 'reassigned', { from: task.executor_id, to: dto.executorId });
      return this.reread(m, id);
    });
  }

  /** Group posts are often done for many groups at once: each task completes on its own; the refused say why. */
  async bulkComplete(caller: Principal, dto: BulkCompleteDto): Promise<BulkResultDto> {
    const result: BulkResultDto = { done: [], refused: [] };
    for (const taskId of [...new Set(dto.taskIds)]) {
      try {
        result.done.push(await this.complete(caller, taskId, dto));
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        result.refused.push({ taskId, problem: err.message });
      }
    }
    return result;
  }

  /** The task as the action left it (a reassigned task is no longer the caller's: no access check here). */
  private async reread(m: Queryable, id: string): Promise<TaskDto> {
    const [task]: TaskRow[] = await m.query(`${SELECT_TASK} WHERE t.id = $1`, [id]);
    return toDto(task);
  }

  private assertPending(task: TaskRow, action: string): void {
    if (task.status !== 'pending') throw fail(INBOX_ERRORS.TASK_NOT_PENDING, `This task is ${task.status}; it cannot be ${action}.`);
  }

  private async record(m: Queryable, caller: Principal, task: TaskRow, action: string, detail: Record<string, unknown>): Promise<void> {
    await m.query(`INSERT INTO task_events (tenant_id, task_id, action, actor_id, detail) VALUES ($1, $2, $3, $4, $5)`,
      [task.tenant_id, task.id, action, caller.userId, caller.apiKeyId ? { ...detail, apiKeyId: caller.apiKeyId } : detail]);
  }

  /** The executor copied a material's tracked link: opens in the next seconds are the chat app's preview, not the customer. */
  async linkCopied(caller: Principal, id: string, index: number): Promise<void> {
    const task = await this.visibleTask(this.db, caller, id);
    if (!task.materials[index]) throw notFound('link', `${id}-${index}`);
    await this.links.copied(task.tenant_id, task.id, index);
  }

  /** A task the caller may see, or 404 (employees: others' tasks do not exist for them) / 403 (a manager outside the team). */
  private async visibleTask(m: Queryable, caller: Principal, id: string, lock = ''): Promise<TaskRow> {
    this.assertPerson(caller);
    if (!TASK_ID.test(id)) throw notFound('task', id);
    const [task]: TaskRow[] = await m.query(`${SELECT_TASK} WHERE t.tenant_id = $1 AND t.id = $2 ${lock}`, [caller.tenantId, id]);
    if (!task) throw notFound('task', id);
    const access = await taskAccess(m, caller, task.executor_id);
    if (access === 'allowed') return task;
    if (access === 'outside-team') throw fail(INBOX_ERRORS.TASK_OUTSIDE_TEAM, 'This task belongs to someone outside the teams you manage.');
    throw notFound('task', id);
  }

  /** An employee's or manager's inbox belongs to a person: an API key with such a role has none. */
  private assertPerson(caller: Principal): void {
    if (lacksPerson(caller)) throw fail(INBOX_ERRORS.INBOX_NEEDS_A_USER);
  }

  /** null: every executor in the tenant (admin, ops); otherwise the executors whose tasks the caller may list. */
  private async visibleExecutors(caller: Principal, executorId?: string): Promise<string[] | null> {
    const scope = await visibleExecutors(this.db, caller, executorId);
    if ('executors' in scope) return scope.executors;
    if (scope.refused === 'needs-a-user') throw fail(INBOX_ERRORS.INBOX_NEEDS_A_USER);
    if (scope.refused === 'not-yours') throw fail(INBOX_ERRORS.NOT_YOUR_TASKS);
    throw fail(INBOX_ERRORS.TASK_OUTSIDE_TEAM, 'That person is outside the teams you manage.');
  }

  private bounds(tz: string): { now: Date; todayStart: Date; todayEnd: Date } {
    const now = new Date();
    const today = DateTime.fromJSDate(now, { zone: tz }).startOf('day');
    return { now, todayStart: today.toJSDate(), todayEnd: today.plus({ days: 1 }).toJSDate() };
  }
}

interface Bounds {
  readonly now: string;
  readonly end: string;
}

/** SQL per list; `now` and `end` (of the caller's today) are parameter references. Snoozed tasks wait in upcoming. */
const LIST_WHERE: Record<'today' | 'overdue' | 'upcoming' | 'done', (b: Bounds) => string> = {
  today: (b) => `t.status = 'pending' AND t.due_at < ${b.end} AND t.due_until >= ${b.now} AND (t.snoozed_until IS NULL OR t.snoozed_until <= ${b.now})`,
  overdue: (b) => `t.status = 'pending' AND t.due_until < ${b.now}`,
  upcoming: (b) => `t.status = 'pending' AND t.due_until >= ${b.now} AND (t.due_at >= ${b.end} OR t.snoozed_until > ${b.now})`,
  done: () => `t.status IN ('done', 'skipped')`,
};
