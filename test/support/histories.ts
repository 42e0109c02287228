import { temporal } from '@temporalio/proto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { HISTORIES_DIR, ROOT } from './env';

type History = temporal.api.history.v1.IHistory;
const HistoryMessage = temporal.api.history.v1.History;

/** Folders of this machine that a history must not carry (stack traces and error messages name files). */
function machinePaths(): string[] {
  return [ROOT, homedir()].filter((p) => p.length > 1).sort((a, b) => b.length - a.length);
}

/** Replaces this machine's folders in a text: the checkout by `<repo>`, the home folder by `~`. */
function scrubText(text: string): string {
  const [root, home] = [ROOT, homedir()];
  let out = text;
  for (const p of machinePaths()) out = out.split(p).join(p === root ? '<repo>' : p === home ? '~' : '');
  return out;
}

const JSON_PLAIN = Buffer.from('json/plain').toString('base64');

/**
 * Every string of a history as proto JSON, with payloads (base64 JSON) decoded and re-encoded, so paths
 * inside activity results and failures are scrubbed too. Payload bytes change only where a path was:
 * replay hands such values to the workflow, which decides nothing on a file name.
 */
function scrub(value: unknown): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (Array.isArray(value)) return value.map(scrub);
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const meta = o.metadata as Record<string, unknown> | undefined;
    const out: Record<string, unknown> = Object.fromEntries(Object.entries(o).map(([k, v]) => [k, k === 'data' ? v : scrub(v)]));
    if (typeof o.data === 'string') {
      out.data = meta?.encoding === JSON_PLAIN
        ? Buffer.from(scrubText(Buffer.from(o.data, 'base64').toString('utf8')), 'utf8').toString('base64')
        : o.data;
    }
    return out;
  }
  return value;
}

/** The places in a saved history (its JSON text, with json payloads decoded) that name one of this machine's folders. */
export function machinePathsIn(json: unknown): string[] {
  const found: string[] = [];
  const visit = (v: unknown, at: string) => {
    if (typeof v === 'string') {
      if (machinePaths().some((p) => v.includes(p)) || /(^|[^\w])\/(home|root|work)\//.test(v)) found.push(at);
    } else if (Array.isArray(v)) v.forEach((x, i) => visit(x, `${at}[${i}]`));
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      for (const [k, x] of Object.entries(o)) {
        const text = k === 'data' && typeof x === 'string' && (o.metadata as Record<string, unknown> | undefined)?.encoding === JSON_PLAIN
          ? Buffer.from(x, 'base64').toString('utf8') : x;
        visit(text, `${at}.${k}`);
      }
    }
  };
  visit(json, '$');
  return found;
}

/**
 * Saved as proto JSON (enum names, string longs, base64 bytes) so diffs stay readable, without this
 * machine's folders. A history already saved is kept, never re-recorded: it is the proof that today's code
 * still replays what ran before (a changed workflow adds a history under a new name).
 */
export function saveHistory(name: string, history: History): void {
  const file = join(HISTORIES_DIR, `${name}.json`);
  if (existsSync(file)) {
    console.warn(`[histories] ${name}.json is kept: saved histories are added, never re-recorded`);
    return;
  }
  const json = HistoryMessage.toObject(HistoryMessage.fromObject(history), { longs: String, enums: String, bytes: String });
  writeFileSync(file, `${JSON.stringify(scrub(json), null, 1)}\n`);
}

export function loadHistories(): { workflowId: string; history: History; json: unknown }[] {
  return readdirSync(HISTORIES_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((file) => {
      const json = JSON.parse(readFileSync(join(HISTORIES_DIR, file), 'utf8'));
      return { workflowId: file.replace(/\.json$/, ''), history: HistoryMessage.fromObject(json), json };
    });
}
