import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { AppError } from '@sop/domain';
import { completeTaskWithOutcome, type Queryable } from '@sop/engine';
import { DataSource } from 'typeorm';
import { lacksPerson } from '../../common/access/roles';
import { type ExecutorScope, mayHandTaskTo, taskAccess, visibleExecutors } from '../../common/access/tasks';
import { fail, failAt, notFound } from '../../common/errors.catalog';
import { decodeCursor, encodeCursor } from '../../common/pagination';
import type { Principal } from '../../common/principal';
import { LinksService } from '../links/links.service';
import {
  type BulkCompleteDto, type BulkResultDto, type CompleteDto, type CountsDto, type CountsQuery, type InboxSopDto, type InboxQuery, type ReassignDto, type SkipDto,
  OUTCOMES, type SnoozeDto, TASK_ID, type TaskDetailDto, type TaskDto, type TaskPageDto,
} from './inbox.dto';
import { INBOX_ERRORS } from './inbox.errors';
import { InboxRepository, LIST_ORDER, type TaskRow } from './inbox.repository';
import { ZoneDays } from './zone-days';

const toDto = (r: TaskRow): TaskDto => ({
  id: r.id, sopId: r.sop_id, sopName: r.sop_name, stepIndex: r.step_index, contactId: r.contact_id, contactName: r.contact_name,
  groupId: r.group_id, groupName: r.group_name, executorId: r.executor_id, executorName: r.executor_name, channel: r.channel, content: r.content, materials: r.materials,
  dueAt: r.due_at, dueUntil: r.due_until, status: r.status, outcome: r.outcome, note: r.note, snoozedUntil: r.snoozed_until,
  finishedAt: r.finished_at, onTime: r.status === 'done' && r.finished_at ? r.finished_at <= r.due_until : null,
  wecomSendState: r.wecom_send_state ?? null,
});

/**
 * The employee's task inbox. Employees see and act on their own tasks (another's answers 404, as if it
 * did not exist); managers on their own and their teams' (another team's answers 403); admins and ops on
 * the tenant's. Every action is idempotent: repeating it answers the same task and records nothing new.
 */
@Injectable()
export class InboxService {
  private readonly days = new ZoneDays();

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly links: LinksService,
    private readonly tasks: InboxRepository,
  ) {}

  async list(caller: Principal, q: InboxQuery): Promise<TaskPageDto> {
    const whose = await this.visibleExecutors(caller, q.executorId);
    const { now, todayEnd } = this.bounds(q.tz);
    const rows = await this.tasks.page(caller.tenantId, {
      list: q.list, now, todayEnd, ...whose, sopId: q.sopId, channel: q.channel, contactId: q.contactId, groupId: q.groupId,
      after: q.cursor ? decodeCursor(q.cursor, TASK_ID) : undefined,
    }, q.limit + 1);
    const { at } = LIST_ORDER[q.list];
    const items = rows.slice(0, q.limit).map(toDto);
    const last = rows.length > q.limit ? rows[q.limit - 1] : undefined;
    return { items, nextCursor: last ? encodeCursor(last[at]!, last.id) : null };
  }

  /** What each list holds under the same scope and filters as the list (GET /api/inbox/tasks). */
  async counts(caller: Principal, q: CountsQuery): Promise<CountsDto> {
    const whose = await this.visibleExecutors(caller, q.executorId);
    const { now, todayEnd, todayStart } = this.bounds(q.tz);
    return this.tasks.counts(caller.tenantId, { ...whose, sopId: q.sopId, channel: q.channel, contactId: q.contactId, groupId: q.groupId },
      { now, todayEnd, todayStart });
  }

  async sops(caller: Principal, executorId: string | undefined): Promise<InboxSopDto[]> {
    return this.tasks.sopsWithPending(caller.tenantId, await this.visibleExecutors(caller, executorId));
  }

  async detail(caller: Principal, id: string): Promise<TaskDetailDto> {
    const task = await this.visibleTask(this.db, caller, id);
    const [contactTags, history, lastResponses, wecomSendError] = await Promise.all([
      task.contact_id ? this.tasks.contactTagNames(task.contact_id) : [],
      this.tasks.history(id),
      task.contact_id ? this.tasks.lastResponses(task.tenant_id, task.contact_id) : [],
      task.wecom_send_state === 'failed' && task.wecom_mass_send_id ? this.tasks.massSendError(task.tenant_id, task.wecom_mass_send_id) : null,
    ]);
    const materials = task.materials.map((m, i) => ({ ...m, trackedPath: this.links.path(task.tenant_id, task.id, i) }));
    return { ...toDto(task), materials, contactTags, history, lastResponses, wecomSendError: wecomSendError ?? null };
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
      const task = await this.visibleTask(m, caller, id, true);
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
      const task = await this.visibleTask(m, caller, id, true);
      if (task.status === 'skipped') return toDto(task);
      this.assertPending(task, 'skipped');
      await this.tasks.markSkipped(m, caller.tenantId, id, dto.reason.trim());
      await this.record(m, caller, task, 'skipped', { reason: dto.reason.trim() });
      return this.reread(m, id);
    });
  }

  async snooze(caller: Principal, id: string, dto: SnoozeDto): Promise<TaskDto> {
    const until = new Date(dto.until);
    if (until <= new Date()) throw failAt(INBOX_ERRORS.SNOOZE_IN_PAST, 'until', 'must be in the future');
    return this.db.transaction(async (m) => {
      const task = await this.visibleTask(m, caller, id, true);
      if (task.snoozed_until?.getTime() === until.getTime()) return toDto(task);
      this.assertPending(task, 'snoozed');
      await this.tasks.snooze(m, caller.tenantId, id, until);
      await this.record(m, caller, task, 'snoozed', { until });
      return this.reread(m, id);
    });
  }

  /** Employees hand a task to a teammate; managers within the teams they manage; admins and ops to anyone active. */
  async reassign(caller: Principal, id: string, dto: ReassignDto): Promise<TaskDto> {
    return this.db.transaction(async (m) => {
      const task = await this.visibleTask(m, caller, id, true);
      if (task.executor_id === dto.executorId) return toDto(task);
      this.assertPending(task, 'reassigned');
      const allowed = await mayHandTaskTo(m, caller, dto.executorId);
      if (allowed === undefined) throw failAt(INBOX_ERRORS.EXECUTOR_NOT_FOUND, 'executorId', 'no active user with that id');
      if (!allowed) throw fail(INBOX_ERRORS.REASSIGN_NOT_ALLOWED);
      await this.tasks.setExecutor(m, caller.tenantId, id, dto.executorId);
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
    return toDto(await this.tasks.reread(m, id));
  }

  private assertPending(task: TaskRow, action: string): void {
    if (task.status !== 'pending') throw fail(INBOX_ERRORS.TASK_NOT_PENDING, `This task is ${task.status}; it cannot be ${action}.`);
  }

  private async record(m: Queryable, caller: Principal, task: TaskRow, action: string, detail: Record<string, unknown>): Promise<void> {
    await this.tasks.recordEvent(m, task.tenant_id, {
      taskId: task.id, action, actorId: caller.userId, detail: caller.apiKeyId ? { ...detail, apiKeyId: caller.apiKeyId } : detail,
    });
  }

  /** The executor copied a material's tracked link: opens in the next seconds are the chat app's preview, not the customer. */
  async linkCopied(caller: Principal, id: string, index: number): Promise<void> {
    const task = await this.visibleTask(this.db, caller, id);
    if (!task.materials[index]) throw notFound('link', `${id}-${index}`);
    await this.links.copied(task.tenant_id, task.id, index);
  }

  /** A task the caller may see, or 404 (employees: others' tasks do not exist for them) / 403 (a manager outside the team). */
  private async visibleTask(m: Queryable, caller: Principal, id: string, lock = false): Promise<TaskRow> {
    this.assertPerson(caller);
    if (!TASK_ID.test(id)) throw notFound('task', id);
    const task = await this.tasks.find(m, caller.tenantId, id, lock);
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

  /** Whose tasks the caller may list (common/access/tasks.ts): a manager's team scope holds the unassigned tasks too. */
  private async visibleExecutors(caller: Principal, executorId?: string): Promise<ExecutorScope> {
    const scope = await visibleExecutors(this.db, caller, executorId);
    if ('executors' in scope) return scope;
    if (scope.refused === 'needs-a-user') throw fail(INBOX_ERRORS.INBOX_NEEDS_A_USER);
    if (scope.refused === 'not-yours') throw fail(INBOX_ERRORS.NOT_YOUR_TASKS);
    throw fail(INBOX_ERRORS.TASK_OUTSIDE_TEAM, 'That person is outside the teams you manage.');
  }

  private bounds(tz: string): { now: Date; todayStart: Date; todayEnd: Date } {
    const now = new Date();
    return { now, ...this.days.dayOf(tz, now) };
  }
}
