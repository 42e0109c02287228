import { simpleParser, type ParsedMail } from 'mailparser';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail { envelopeTo: string[]; mail: ParsedMail }

/**
 * A real SMTP server on a free local port that keeps what arrives, parsed. `failNext(n, code)` makes
 * the next n messages fail with that reply code (4xx: try later, 5xx: refused), to test retries.
 */
export class SmtpSink {
  readonly received: ReceivedMail[] = [];
  private failures: number[] = [];
  private waiters: Array<() => void> = [];

  private readonly server: SMTPServer;
  port = 0;

  private constructor() {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      size: 10 * 1024 * 1024,
      onData: (stream, session, callback) => {
        const code = this.failures.shift();
        if (code !== undefined) {
          stream.resume();
          stream.on('end', () => callback(Object.assign(new Error(`test failure ${code}`), { responseCode: code })));
          return;
        }
        simpleParser(stream).then((mail) => {
          this.received.push({ envelopeTo: session.envelope.rcptTo.map((r) => r.address), mail });
          this.waiters.splice(0).forEach((wake) => wake());
          callback();
        }, callback);
      },
    });
  }

  static async start(): Promise<SmtpSink> {
    const sink = new SmtpSink();
    // A sender killed mid-message (the fault tests SIGKILL workers) resets its connection: that is the sender's
    // failure, not the server's, and an unhandled 'error' event would fail the test file.
    sink.server.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') throw err;
    });
    await new Promise<void>((resolve) => sink.server.listen(0, '127.0.0.1', resolve));
    sink.port = (sink.server.server.address() as AddressInfo).port;
    return sink;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  failNext(count: number, responseCode: number): void {
    this.failures.push(...Array(count).fill(responseCode));
  }

  to(address: string): ReceivedMail[] {
    return this.received.filter((r) => r.envelopeTo.includes(address));
  }

  /** Resolves when `count` messages have arrived in all, or rejects after `timeoutMs`. */
  async waitFor(count: number, timeoutMs = 10_000): Promise<ReceivedMail[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`expected ${count} mails, ${this.received.length} arrived within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
    return this.received;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
