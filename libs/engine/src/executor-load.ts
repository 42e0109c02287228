/**
 * Tasks per executor per day (days in the SOP's zone) that count against an SOP's capacity and that round
 * robin evens out: read once, then counted up as a page, or the forecast, gives tasks out. Dispatch and the
 * forecast use the same reading and the same pick, so what the forecast shows is what dispatch does.
 */
import { DateTime } from 'luxon';
import type { Queryable } from './queryable';
import { unitHash } from './sop-people';

/** Task statuses that take a place in a day: cancelled tasks free theirs. */
export const COUNTED = ['pending', 'done', 'expired'];

export const dayOf = (at: Date, zone: string): string => DateTime.fromJSDate(at, { zone }).toISODate()!;

export class DayLoad {
  private readonly n = new Map<string, number>();

  /** Counted tasks of `userIds` due in [from, to), per user and day in `zone`: one query. */
  static async read(db: Queryable, tenantId: string, userIds: string[], zone: string, from: Date, to: Date): Promise<DayLoad> {
    const load = new DayLoad();
    if (!userIds.length) return load;
    const rows: { executor_id: string; day: string; n: number }[] = await db.query(
      `SELECT executor_id, to_char(due_at AT TIME ZONE $5, 'YYYY-MM-DD') AS day, count(*)::int AS n FROM tasks
        WHERE tenant_id = $1 AND executor_id = ANY($2::uuid[]) AND status = ANY($3) AND due_at >= $4 AND due_at < $6 GROUP BY 1, 2`,
      [tenantId, userIds, COUNTED, from, zone, to],
    );
    for (const r of rows) load.add(r.executor_id, r.day, r.n);
    return load;
  }

  get(userId: string, day: string): number {
    return this.n.get(`${userId}|${day}`) ?? 0;
  }

  add(userId: string, day: string, k = 1): void {
    this.n.set(`${userId}|${day}`, this.get(userId, day) + k);
  }
}

/**
 * Round robin: the member with the fewest tasks that day. Ties go by a hash of the member and the day, not
 * by the task, so the outcome depends only on the day's counts: a retried page assigns the same way, the
 * forecast (which counts tasks, not contacts) comes out the same, and who takes a day's odd task varies by day.
 */
export function leastLoaded(members: string[], day: string, load: DayLoad): string | undefined {
  let best: { id: string; n: number; tie: number } | undefined;
  for (const id of members) {
    const n = load.get(id, day);
    const tie = unitHash(`rr:${day}:${id}`);
    if (!best || n < best.n || (n === best.n && (tie < best.tie || (tie === best.tie && id < best.id)))) best = { id, n, tie };
  }
  return best?.id;
}
