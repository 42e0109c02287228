import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { preparedQuery } from '@sop/db';

/** One decrypted callback event to keep: the row of `wecom_callback_events`. */
export interface CallbackEventRow {
  tenantId: string;
  digest: string;
  event: string;
  changeType: string | null;
  payload: string;
}

interface Waiting { row: CallbackEventRow; resolve: (kept: boolean) => void; reject: (err: unknown) => void }

/** Statements in flight at once: a few, so one slow commit does not hold every callback up. */
const MAX_IN_FLIGHT = 2;
/** Rows in one statement: well under Postgres's parameter limit and a short transaction. */
const MAX_BATCH = 500;

/**
 * Keeps callback events in Postgres, many per statement under load. A callback is answered only after its
 * event is committed, so each one costs a round trip and a commit; one statement per callback makes the pool,
 * not the CPU, the limit (about 600 a second here). Nothing waits on a timer: a row is written at once when a
 * statement slot is free, and rows that arrive while every slot is busy go together in the next statement.
 */
@Injectable()
export class CallbackKeeper {
  private waiting: Waiting[] = [];
  private inFlight = 0;

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** True when this event is new; false for a redelivery or a replay (its digest is kept already). */
  keep(row: CallbackEventRow): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ row, resolve, reject });
      this.drain();
    });
  }

  private drain(): void {
    while (this.inFlight < MAX_IN_FLIGHT && this.waiting.length) {
      const batch = this.waiting.splice(0, MAX_BATCH);
      this.inFlight++;
      void this.write(batch).finally(() => {
        this.inFlight--;
        this.drain();
      });
    }
  }

  private async write(batch: Waiting[]): Promise<void> {
    try {
      const kept = await this.insert(batch.map((w) => w.row));
      settle(batch, kept);
    } catch {
      // One row Postgres refuses must not fail the callbacks it shared a statement with: each on its own.
      await Promise.all(batch.map(async (w) => {
        try {
          settle([w], await this.insert([w.row]));
        } catch (err) {
          w.reject(err);
        }
      }));
    }
  }

  /** The keys (tenant and digest) of the rows that were new. */
  private async insert(rows: CallbackEventRow[]): Promise<Set<string>> {
    const column = <K extends keyof CallbackEventRow>(k: K) => rows.map((r) => r[k]);
    // last_callback_at moves at most once a second: every callback updating the one row would queue them all on its
    // lock; and a statement never waits for another one's (or a connection save's) lock on the row: the next second's does it
    const kept = await preparedQuery<{ tenant_id: string; digest: string }>(this.db, 'wecom.keep-callbacks',
      `WITH kept AS (
         INSERT INTO wecom_callback_events (tenant_id, digest, event, change_type, payload)
         SELECT t, d, e, c, p FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::jsonb[]) WITH ORDINALITY AS r(t, d, e, c, p, n)
          ORDER BY n
         ON CONFLICT (tenant_id, digest) DO NOTHING RETURNING tenant_id, digest),
       due AS (
         SELECT tenant_id FROM wecom_connections
          WHERE tenant_id = ANY($1::uuid[]) AND (last_callback_at IS NULL OR last_callback_at < now() - interval '1 second')
            FOR NO KEY UPDATE SKIP LOCKED),
       touched AS (
         UPDATE wecom_connections c SET last_callback_at = now() FROM due WHERE c.tenant_id = due.tenant_id)
       SELECT tenant_id, digest FROM kept`,
      [column('tenantId'), column('digest'), column('event'), column('changeType'), column('payload')],
    );
    return new Set(kept.map((k) => key(k.tenant_id, k.digest)));
  }
}

const key = (tenantId: string, digest: string) => `${tenantId}:${digest}`;

/** Each waiting callback learns whether its row was new; of two equal events in one batch only the first was. */
function settle(batch: Waiting[], kept: Set<string>): void {
  for (const w of batch) {
    const k = key(w.row.tenantId, w.row.digest);
    w.resolve(kept.delete(k));
  }
}
