import { temporal } from '@temporalio/proto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HISTORIES_DIR } from './env';

type History = temporal.api.history.v1.IHistory;
const HistoryMessage = temporal.api.history.v1.History;

/** Saved as proto JSON (enum names, string longs, base64 bytes) so diffs stay readable. */
export function saveHistory(workflowType: string, history: History): void {
  const json = HistoryMessage.toObject(HistoryMessage.fromObject(history), { longs: String, enums: String, bytes: String });
  writeFileSync(join(HISTORIES_DIR, `${workflowType}.json`), `${JSON.stringify(json, null, 1)}\n`);
}

export function loadHistories(): { workflowId: string; history: History }[] {
  return readdirSync(HISTORIES_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((file) => ({
      workflowId: file.replace(/\.json$/, ''),
      history: HistoryMessage.fromObject(JSON.parse(readFileSync(join(HISTORIES_DIR, file), 'utf8'))),
    }));
}
