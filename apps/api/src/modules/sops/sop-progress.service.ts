import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { HeldCountDto, SopProgressDto, StepProgressDto } from './sops.dto';
import { SopsService } from './sops.service';

interface StepCounts { step: number; waiting: number; pending: number; done: number; skipped: number; expired: number; cancelled: number }

/**
 * Where a running SOP's contacts are, step by step, counted set-based: tasks grouped by step and status
 * (tasks_sop_idx), open enrollments by the step they wait for, closed ones by the step they were waiting for
 * and their reason. Steps are named by the current version; an older version's extra steps are counted too.
 */
@Injectable()
export class SopProgressService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly sops: SopsService,
  ) {}

  async progress(tenantId: string, id: string): Promise<SopProgressDto> {
    const sop = await this.sops.row(this.db, tenantId, id);
    const [counts, exits, [enrollments], held]: [StepCounts[], { step: number; reason: string; contacts: number }[], { active: number; completed: number; exited: number }[], HeldCountDto[]] =
      await Promise.all([
        this.db.query(
          `SELECT step, sum(waiting)::int AS waiting, sum(pending)::int AS pending, sum(done)::int AS done, sum(skipped)::int AS skipped,
                  sum(expired)::int AS expired, sum(cancelled)::int AS cancelled
             FROM (SELECT step_index AS step, 0 AS waiting, count(*) FILTER (WHERE status = 'pending') AS pending,
                          count(*) FILTER (WHERE status = 'done') AS done, count(*) FILTER (WHERE status = 'skipped') AS skipped,
                          count(*) FILTER (WHERE status = 'expired') AS expired, count(*) FILTER (WHERE status = 'cancelled') AS cancelled
                     FROM tasks WHERE tenant_id = $1 AND sop_id = $2 GROUP BY step_index
                   UNION ALL
                   SELECT next_step, count(*), 0, 0, 0, 0, 0 FROM enrollments
                    WHERE tenant_id = $1 AND sop_id = $2 AND status = 'active' GROUP BY next_step) x
            GROUP BY step ORDER BY step`,
          [tenantId, id]),
        this.db.query(
          `SELECT next_step AS step, coalesce(close_reason, 'unknown') AS reason, count(*)::int AS contacts
             FROM enrollments WHERE tenant_id = $1 AND sop_id = $2 AND status = 'exited'
            GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2`,
          [tenantId, id]),
        this.db.query(
          `SELECT count(*) FILTER (WHERE status = 'active')::int AS active, count(*) FILTER (WHERE status = 'completed')::int AS completed,
                  count(*) FILTER (WHERE status = 'exited')::int AS exited
             FROM enrollments WHERE tenant_id = $1 AND sop_id = $2`,
          [tenantId, id]),
        // held tasks (tasks_held_idx): the content of their step could not be rendered
        this.db.query(
          `SELECT t.held_reason AS reason, v.version, count(*)::int AS tasks
             FROM tasks t LEFT JOIN sop_versions v ON v.id = t.sop_version_id
            WHERE t.tenant_id = $1 AND t.sop_id = $2 AND t.status = 'held'
            GROUP BY 1, 2 ORDER BY 3 DESC, 2 DESC, 1`,
          [tenantId, id]),
      ]);
    const named = sop.definition.steps.length;
    const last = Math.max(named - 1, ...counts.map((c) => c.step), ...exits.filter((e) => e.step < named).map((e) => e.step));
    const steps: StepProgressDto[] = Array.from({ length: last + 1 }, (_, index) => {
      const c = counts.find((r) => r.step === index) ?? { waiting: 0, pending: 0, done: 0, skipped: 0, expired: 0, cancelled: 0 };
      const tasks = { pending: c.pending, done: c.done, skipped: c.skipped, expired: c.expired, cancelled: c.cancelled };
      const created = Object.values(tasks).reduce((a, b) => a + b, 0);
      return {
        index, name: sop.definition.steps[index]?.name ?? null,
        entered: c.waiting + created, waiting: c.waiting, tasksCreated: created, tasks,
        exited: exits.filter((e) => e.step === index).map(({ reason, contacts }) => ({ reason, contacts })),
      };
    });
    // a contact who exited after the last step's task was made waits for no step: counted with the last one
    const afterLast = exits.filter((e) => e.step > last);
    if (afterLast.length && steps.length) steps[steps.length - 1].exited.push(...afterLast.map(({ reason, contacts }) => ({ reason, contacts })));
    return { kind: sop.kind, status: sop.status, currentVersion: sop.current_version, enrollments, steps, held };
  }
}
