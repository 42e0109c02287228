import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { SopProgressDto, StepProgressDto } from './sops.dto';
import { SopsRepository } from './sops.repository';
import { SopsService } from './sops.service';

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
    private readonly repository: SopsRepository,
  ) {}

  async progress(tenantId: string, id: string): Promise<SopProgressDto> {
    const sop = await this.sops.row(this.db, tenantId, id);
    const [counts, exits, [enrollments], held] = await this.repository.progress(tenantId, id);
    const named = sop.definition.steps.length;
    const last = Math.max(named - 1, ...counts.map((c) => c.step), ...exits.filter((e) => e.step < named).map((e) => e.step));
    const steps: StepProgressDto[] = Array.from({ length: last + 1 }, (_, index) => {
      const c = counts.find((r) => r.step === index) ?? { waiting: 0, pending: 0, done: 0, skipped: 0, expired: 0, cancelled: 0, held: 0 };
      // a held task counts as made: its contact moved on to the next step (the funnel counts it the same way)
      const tasks = { pending: c.pending, done: c.done, skipped: c.skipped, expired: c.expired, cancelled: c.cancelled, held: c.held };
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
