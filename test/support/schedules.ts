import { type Client, ScheduleNotFoundError } from '@temporalio/client';

/**
 * Runs `work`, which creates the namespace-wide Schedule `scheduleId`, and deletes that Schedule afterwards, also when
 * an assertion in `work` fails: a Schedule left behind would fire into later tests (and the next run of this one would
 * find it 'exists', not 'created'). A Schedule that was never created is no error of its own: `work`'s error stands.
 */
export async function withSchedule<T>(client: Client, scheduleId: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } finally {
    await client.schedule.getHandle(scheduleId).delete().catch((err: unknown) => {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    });
  }
}
