import { Injectable, Logger, type OnApplicationBootstrap, type BeforeApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { ServerResponse } from 'node:http';
import type { HttpReply } from '../../common/http';
import { DataSource, type QueryRunner } from 'typeorm';
import { pgClient, type PgClient } from '../../common/dedicated-connection';
import { NotificationsRepository } from './notifications.repository';
import { toNotificationDto } from './notifications.service';

interface Subscriber {
  tenantId: string;
  userId: string;
  res: ServerResponse;
  /** the highest notification id sent (or known at the start) */
  lastId: string;
  /** ids at or below lastId already sent or known, with when they were seen: a late commit's rows are the others */
  seen: Map<string, number>;
  pulling: boolean;
  again: boolean;
}

const HEARTBEAT_MS = 15_000;
const RECONNECT_MS = 2_000;
/** Most notifications one push sends; the rest follow on the next wake-up or from the list. */
const PUSH_LIMIT = 100;
/**
 * Ids are taken at INSERT, rows become visible at COMMIT: a long transaction (a reminder sweep) may commit
 * rows below an id already pushed. Rows created in the last 5 minutes are looked at again by id, beyond lastId
 * (NotificationsRepository); ids seen are remembered twice as long (by this process's clock) so clock skew cannot
 * resend one.
 */
const SEEN_MS = 10 * 60_000;

/**
 * Live notifications over server-sent events. One LISTEN connection per API process hears the trigger's
 * NOTIFY (a user id per inserting statement) and each of that user's open streams then reads its rows newer
 * than the last it sent. Heartbeat comments keep proxies from closing idle streams; on shutdown every stream
 * is ended and the listening connection released.
 */
@Injectable()
export class NotificationStream implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger(NotificationStream.name);
  private readonly subscribers = new Map<string, Set<Subscriber>>();
  private runner?: QueryRunner;
  private heartbeat?: NodeJS.Timeout;
  private reconnect?: NodeJS.Timeout;
  private closing = false;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly notifications: NotificationsRepository,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.listen();
    this.heartbeat = setInterval(() => this.everyStream((s) => s.res.write(': ping\n\n')), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.reconnect);
    this.everyStream((s) => s.res.end());
    this.subscribers.clear();
    await this.release();
  }

  /** Opens a stream for the user; `lastEventId` (the browser's Last-Event-ID) replays what came after it. */
  async open(tenantId: string, userId: string, reply: HttpReply, lastEventId?: string): Promise<void> {
    // where to start, before the headers go out (a failure here still answers as JSON); what arrives
    // between this read and the subscription below is caught by the first pull
    const start = await this.notifications.streamStart(tenantId, userId, lastEventId && /^\d{1,18}$/.test(lastEventId) ? lastEventId : null);
    const lastId = start.last;
    const now = Date.now();
    const seen = new Map(start.recent.map((id) => [id, now]));
    // from here on the stream writes to the socket itself: Fastify steps aside
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no',
    });
    res.write('retry: 5000\n\nevent: ready\ndata: {}\n\n');
    const sub: Subscriber = { tenantId, userId, res, lastId, seen, pulling: false, again: false };
    const set = this.subscribers.get(userId) ?? new Set<Subscriber>();
    set.add(sub);
    this.subscribers.set(userId, set);
    res.on('close', () => {
      set.delete(sub);
      if (!set.size) this.subscribers.delete(userId);
    });
    await this.pull(sub);
  }

  /** How many streams are open (for tests and metrics). */
  get openStreams(): number {
    let n = 0;
    for (const set of this.subscribers.values()) n += set.size;
    return n;
  }

  private async listen(): Promise<void> {
    if (this.closing) return;
    try {
      this.runner = this.db.createQueryRunner();
      await this.runner.connect();
      const client = pgClient(this.runner);
      client.on('notification', (msg) => msg.channel === 'notifications' && msg.payload && this.wake(msg.payload));
      client.on('error', (err) => this.lost(err));
      client.on('end', () => this.lost());
      await client.query('LISTEN notifications');
      // anything written while no one listened reaches the open streams now
      this.everyStream((s) => void this.pull(s));
    } catch (err) {
      this.lost(err as Error);
    }
  }

  private lost(err?: Error): void {
    if (this.closing || this.reconnect) return;
    this.log.warn(`notification listener lost (${err?.message ?? 'connection ended'}); reconnecting`);
    void this.release(err);
    this.reconnect = setTimeout(() => {
      this.reconnect = undefined;
      void this.listen();
    }, RECONNECT_MS);
  }

  private async release(err?: Error): Promise<void> {
    const runner = this.runner;
    this.runner = undefined;
    if (!runner) return;
    const client = pgClient(runner) as PgClient | undefined;
    client?.removeAllListeners('notification');
    client?.removeAllListeners('end');
    if (!err) await client?.query('UNLISTEN *').catch(() => undefined);
    await runner.release().catch(() => undefined);
  }

  private wake(userId: string): void {
    for (const sub of this.subscribers.get(userId) ?? []) void this.pull(sub);
  }

  /**
   * Sends the user's rows newer than the last sent, and recent rows below it not sent yet (committed late);
   * wake-ups during a pull make it look once more.
   */
  private async pull(sub: Subscriber): Promise<void> {
    if (sub.pulling) {
      sub.again = true;
      return;
    }
    sub.pulling = true;
    try {
      do {
        sub.again = false;
        const forgetBefore = Date.now() - SEEN_MS;
        for (const [id, at] of sub.seen) if (at < forgetBefore) sub.seen.delete(id);
        const rows = await this.notifications.streamNext(sub.tenantId, sub.userId, sub.lastId, [...sub.seen.keys()], PUSH_LIMIT);
        for (const row of rows) {
          sub.res.write(`id: ${row.id}\nevent: notification\ndata: ${JSON.stringify(toNotificationDto(row))}\n\n`);
          sub.seen.set(row.id, Date.now());
          if (BigInt(row.id) > BigInt(sub.lastId)) sub.lastId = row.id;
        }
      } while (sub.again && !sub.res.writableEnded);
    } catch (err) {
      this.log.warn(`notification push failed: ${(err as Error).message}`);
    } finally {
      sub.pulling = false;
    }
  }

  private everyStream(fn: (s: Subscriber) => void): void {
    for (const set of this.subscribers.values()) for (const s of set) if (!s.res.writableEnded) fn(s);
  }
}
