import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { preparedShape } from '@sop/db';
import { type Queryable, todayListWhere } from '@sop/engine';
import { DataSource } from 'typeorm';
import type { CountsDto, InboxList, InboxSopDto, MaterialDto, ResponseSummaryDto, TaskEventDto } from './inbox.dto';

export interface TaskRow {
  id: string; sop_id: string; sop_name: string; step_index: number; contact_id: string | null; contact_name: string | null;
  group_id: string | null; group_name: string | null; executor_id: string | null; executor_name: string | null; channel: string; content: string; materials: MaterialDto[];
  due_at: Date; due_until: Date; status: string; outcome: string | null; note: string | null; snoozed_until: Date | null;
  finished_at: Date | null; tenant_id: string; wecom_send_state: string | null; wecom_mass_send_id?: string | null;
}

const TASK_NAMES = `SELECT t.*, t.id::text AS id, s.name AS sop_name, c.name AS contact_name, g.name AS group_name, u.name AS executor_name
  FROM %TASKS% t JOIN sops s ON s.id = t.sop_id LEFT JOIN contacts c ON c.id = t.contact_id LEFT JOIN customer_groups g ON g.id = t.group_id
  LEFT JOIN users u ON u.id = t.executor_id`;
const SELECT_TASK = TASK_NAMES.replace('%TASKS%', 'tasks');
/** What a list item shows: a page reads only these, as every column read is formatted by Postgres and parsed here. */
const LIST_COLUMNS = `id, sop_id, step_index, contact_id, group_id, executor_id, channel, content, materials, due_at, due_until, status, outcome,
  note, snoozed_until, finished_at, wecom_send_state`;

/** How each list is ordered: today by the closing window (what must be done first), done newest first. */
export const LIST_ORDER: Record<InboxList, { at: 'due_at' | 'due_until' | 'finished_at'; dir: 'ASC' | 'DESC' }> = {
  today: { at: 'due_until', dir: 'ASC' }, overdue: { at: 'due_at', dir: 'ASC' }, upcoming: { at: 'due_at', dir: 'ASC' }, done: { at: 'finished_at', dir: 'DESC' },
};

interface Bounds {
  readonly now: string;
  readonly end: string;
}

/** SQL per list; `now` and `end` (of the caller's today) are parameter references. Snoozed tasks wait in upcoming. */
const LIST_WHERE: Record<'today' | 'overdue' | 'upcoming' | 'done', (b: Bounds) => string> = {
  today: (b) => todayListWhere('t', b), // the morning digest counts the same (libs/engine today-list.ts)
  overdue: (b) => `t.status = 'pending' AND t.due_until < ${b.now}`,
  upcoming: (b) => `t.status = 'pending' AND t.due_until >= ${b.now} AND (t.due_at >= ${b.end} OR t.snoozed_until > ${b.now})`,
  done: () => `t.status IN ('done', 'skipped')`,
};

/**
 * Whose tasks a list or its counts read, and the filters that narrow both alike; `executors` null is every task of
 * the organization, and `unassigned` adds the tasks nobody could be found for to the executors' (a manager's team).
 */
export interface TaskScope {
  executors: string[] | null;
  unassigned?: boolean;
  sopId?: string; channel?: string; contactId?: string; groupId?: string;
}

/** A list page's scope and filters. */
export interface TaskListFilter extends TaskScope {
  list: InboxList; now: Date; todayEnd: Date;
  /** the cursor's (time in the list's order column, task id) */
  after?: [string, string];
}

/** The scope's conditions on `tasks t`; `p` makes a value a parameter and answers its reference. */
function scopeWhere(s: TaskScope, p: (v: unknown) => string): string[] {
  const where: string[] = [];
  const executors = s.executors;
  // One person (an employee's own list) compares by equality, so the index's due-time order serves the
  // ORDER BY and LIMIT directly; with ANY(...) Postgres reads all of the person's tasks and sorts them.
  if (executors) {
    const whose = executors.length === 1 ? `t.executor_id = ${p(executors[0])}` : `t.executor_id = ANY(${p(executors)}::uuid[])`;
    where.push(s.unassigned ? `(${whose} OR t.executor_id IS NULL)` : whose);
  }
  if (s.sopId) where.push(`t.sop_id = ${p(s.sopId)}`);
  if (s.channel) where.push(`t.channel = ${p(s.channel)}`);
  if (s.contactId) where.push(`t.contact_id = ${p(s.contactId)}`);
  if (s.groupId) where.push(`t.group_id = ${p(s.groupId)}`);
  return where;
}

/**
 * The task inbox's SQL: `tasks` as an executor sees them (named with their SOP, contact, group and executor), their
 * `task_events`, and what a task's detail shows of its contact (tags, last responses) and its mass-send. Every
 * statement is keyed by the caller's organization, or by a task or contact already read under it; those that run in
 * an action's transaction take its manager. The lists run hundreds of times a second: their text and prepared
 * statement names (`inbox.list`) are what `npm run bench -- inbox` measured.
 */
@Injectable()
export class InboxRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Up to `limit` tasks of a list, in its order (LIST_ORDER), after the cursor when there is one. */
  page(tenantId: string, f: TaskListFilter, limit: number): Promise<TaskRow[]> {
    const params: unknown[] = [tenantId];
    const p = (v: unknown) => `$${params.push(v)}`;
    // Only the bounds a list uses become parameters (Postgres refuses parameters a statement does not use).
    const refs: { now?: string; end?: string } = {};
    const bounds: Bounds = { get now() { return (refs.now ??= p(f.now)); }, get end() { return (refs.end ??= p(f.todayEnd)); } };
    const where = [`t.tenant_id = $1`, LIST_WHERE[f.list](bounds), ...scopeWhere(f, p)];
    const { at, dir } = LIST_ORDER[f.list];
    if (f.after) {
      const [after, id] = f.after;
      where.push(`(t.${at}, t.id) ${dir === 'ASC' ? '>' : '<'} (${p(after)}::timestamptz, ${p(id)}::bigint)`);
    }
    // The page is cut from tasks alone, then named: joining first would look up names for every task the
    // list scans, not just the page's.
    const order = `ORDER BY t.${at} ${dir}, t.id ${dir}`;
    const page = `(SELECT ${LIST_COLUMNS} FROM tasks t WHERE ${where.join(' AND ')} ${order} LIMIT ${limit})`;
    // a list runs hundreds of times a second: parsed and planned once per connection and shape, not on every request
    // (left to choose, Postgres planned every run again; the generic plan reads the same index)
    return preparedShape<TaskRow>(this.db, 'inbox.list', `${TASK_NAMES.replace('%TASKS%', page)} ${order}`, params, 'generic');
  }

  /**
   * How many tasks each list holds, in the same scope and filters as the lists (a badge never counts what its list
   * does not show); `done` counts those finished since the start of the caller's today.
   */
  async counts(tenantId: string, s: TaskScope, at: { now: Date; todayEnd: Date; todayStart: Date }): Promise<CountsDto> {
    const params: unknown[] = [tenantId, at.now, at.todayEnd, at.todayStart];
    const p = (v: unknown) => `$${params.push(v)}`;
    const b: Bounds = { now: '$2', end: '$3' };
    const where = [`t.tenant_id = $1`, ...scopeWhere(s, p), `(t.status = 'pending' OR t.finished_at >= $4)`];
    const [row] = await this.db.query(
      `SELECT count(*) FILTER (WHERE ${LIST_WHERE.today(b)})::int AS today, count(*) FILTER (WHERE ${LIST_WHERE.overdue(b)})::int AS overdue,
              count(*) FILTER (WHERE ${LIST_WHERE.upcoming(b)})::int AS upcoming,
              count(*) FILTER (WHERE ${LIST_WHERE.done(b)} AND t.finished_at >= $4)::int AS done
         FROM tasks t WHERE ${where.join(' AND ')}`,
      params,
    );
    return row;
  }

  /** The SOPs with pending tasks in the scope (whose tasks only: the SOP filter's choices), most pending first (at most 200). */
  sopsWithPending(tenantId: string, s: Pick<TaskScope, 'executors' | 'unassigned'>): Promise<InboxSopDto[]> {
    const params: unknown[] = [tenantId];
    const p = (v: unknown) => `$${params.push(v)}`;
    const where = [`t.tenant_id = $1`, `t.status = 'pending'`, ...scopeWhere(s, p)];
    return this.db.query(
      `SELECT s.id, s.name, t.pending FROM sops s
         JOIN (SELECT t.sop_id, count(*)::int AS pending FROM tasks t WHERE ${where.join(' AND ')} GROUP BY t.sop_id) t ON t.sop_id = s.id
        WHERE s.tenant_id = $1 ORDER BY t.pending DESC, s.name LIMIT 200`,
      params,
    );
  }

  /** The task, named; with `lock`, locked FOR UPDATE until the caller's transaction ends (actions on one task take turns). */
  async find(m: Queryable, tenantId: string, id: string, lock = false): Promise<TaskRow | undefined> {
    const [task]: TaskRow[] = await m.query(`${SELECT_TASK} WHERE t.tenant_id = $1 AND t.id = $2 ${lock ? 'FOR UPDATE OF t' : ''}`, [tenantId, id]);
    return task;
  }

  /** The task as an action left it, by its id alone (read after the action, which checked the organization). */
  async reread(m: Queryable, id: string): Promise<TaskRow> {
    const [task]: TaskRow[] = await m.query(`${SELECT_TASK} WHERE t.id = $1`, [id]);
    return task;
  }

  /** The names of the contact's tags, by name (a contact of a task read under the caller's organization). */
  async contactTagNames(contactId: string): Promise<string[]> {
    const rows: { name: string }[] = await this.db.query(
      `SELECT t.name FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id WHERE ct.contact_id = $1 ORDER BY t.name`, [contactId]);
    return rows.map((t) => t.name);
  }

  /** The task's events, oldest first (a task read under the caller's organization). */
  history(taskId: string): Promise<TaskEventDto[]> {
    return this.db.query(`SELECT action, actor_id AS "actorId", detail, created_at AS "at" FROM task_events WHERE task_id = $1 ORDER BY id`, [taskId]);
  }

  /** The contact's last five responses, newest first, each without its empty fields. */
  async lastResponses(tenantId: string, contactId: string): Promise<ResponseSummaryDto[]> {
    const rows: { r: ResponseSummaryDto }[] = await this.db.query(
      `SELECT json_strip_nulls(json_build_object('kind', kind, 'source', source, 'outcome', outcome, 'name', name, 'material', material,
                'at', occurred_at)) AS r
           FROM responses WHERE tenant_id = $1 AND contact_id = $2 ORDER BY occurred_at DESC, id DESC LIMIT 5`,
      [tenantId, contactId]);
    return rows.map((x) => x.r);
  }

  /** The error WeCom gave the mass-send; undefined when there is no such mass-send. */
  async massSendError(tenantId: string, massSendId: string): Promise<string | null | undefined> {
    const rows: { error: string | null }[] = await this.db.query(`SELECT error FROM wecom_mass_sends WHERE tenant_id = $1 AND id = $2`, [tenantId, massSendId]);
    return rows[0]?.error;
  }

  async markSkipped(m: Queryable, tenantId: string, id: string, reason: string): Promise<void> {
    await m.query(`UPDATE tasks SET status = 'skipped', skip_reason = $2, finished_at = now(), snoozed_until = NULL WHERE id = $1 AND tenant_id = $3`,
      [id, reason, tenantId]);
  }

  async snooze(m: Queryable, tenantId: string, id: string, until: Date): Promise<void> {
    await m.query(`UPDATE tasks SET snoozed_until = $2 WHERE id = $1 AND tenant_id = $3`, [id, until, tenantId]);
  }

  async setExecutor(m: Queryable, tenantId: string, id: string, executorId: string): Promise<void> {
    await m.query(`UPDATE tasks SET executor_id = $2 WHERE id = $1 AND tenant_id = $3`, [id, executorId, tenantId]);
  }

  async recordEvent(m: Queryable, tenantId: string, e: { taskId: string; action: string; actorId: string | null; detail: Record<string, unknown> }): Promise<void> {
    await m.query(`INSERT INTO task_events (tenant_id, task_id, action, actor_id, detail) VALUES ($1, $2, $3, $4, $5)`,
      [tenantId, e.taskId, e.action, e.actorId, e.detail]);
  }
}
