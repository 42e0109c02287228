import type { Queryable, Transactional } from '@sop/engine';
import type { DataSource } from 'typeorm';

/** A node of a plan Postgres ran (auto_explain's JSON, with actual rows and buffers). */
export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Join Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  'Shared Hit Blocks': number;
  'Shared Read Blocks': number;
  Plans?: PlanNode[];
}

export interface ExplainedPlan {
  query: string;
  plan: PlanNode;
  /** auto_explain's trigger timings (log_triggers), on top-level statements */
  triggers?: { 'Trigger Name': string; Time: number; Calls: number }[];
}

/**
 * A connection whose statements' executed plans are collected: auto_explain reports every statement's plan with
 * its actual rows and buffers (as notices, read here), with `nested` also the statements run inside functions and
 * triggers. The engine's own calls run on it unchanged (`db` is a Transactional).
 */
export async function explained(source: DataSource, { nested = false } = {}): Promise<{
  db: Transactional; plans: ExplainedPlan[]; release: () => Promise<void>;
}> {
  const runner = source.createQueryRunner();
  await runner.connect();
  const plans: ExplainedPlan[] = [];
  (runner as unknown as { databaseConnection: { on(e: 'notice', f: (m: { message: string }) => void): void } }).databaseConnection
    .on('notice', (notice) => {
      const at = notice.message.indexOf('{');
      if (!notice.message.includes('plan:') || at < 0) return;
      const json = JSON.parse(notice.message.slice(at));
      plans.push({ query: json['Query Text'], plan: json.Plan, triggers: json.Triggers });
    });
  // LOAD needs a superuser, as the test command's Postgres user is; anywhere else this fails saying so.
  await runner.query(`LOAD 'auto_explain'`);
  const settings = ['log_min_duration = 0', 'log_analyze = on', 'log_buffers = on', "log_format = 'json'", "log_level = 'notice'",
    ...(nested ? ['log_nested_statements = on', 'log_triggers = on'] : [])];
  for (const setting of settings) await runner.query(`SET auto_explain.${setting}`);
  const m: Queryable = { query: (sql: string, params?: unknown[]) => runner.query(sql, params) };
  const db: Transactional = {
    ...m,
    async transaction(run) {
      await runner.startTransaction();
      try {
        const result = await run(m);
        await runner.commitTransaction();
        return result;
      } catch (err) {
        await runner.rollbackTransaction();
        throw err;
      }
    },
  };
  return { db, plans, release: () => runner.release() };
}

/** Every node of a plan, depth first. */
export const nodes = (plan: PlanNode): PlanNode[] => [plan, ...(plan.Plans ?? []).flatMap(nodes)];

/** Rows the plan read from a table: returned and filtered out, in every loop. */
export const rowsRead = (plan: PlanNode, table: string) => nodes(plan).filter((n) => n['Relation Name'] === table)
  .reduce((sum, n) => sum + (n['Actual Rows'] + (n['Rows Removed by Filter'] ?? 0) + (n['Rows Removed by Index Recheck'] ?? 0)) * n['Actual Loops'], 0);

/** Row pairs a plan's joins compared and threw away (a nested loop over two sets compares every pair). */
export const pairsRejected = (plan: PlanNode) => nodes(plan).reduce((sum, n) => sum + (n['Rows Removed by Join Filter'] ?? 0) * n['Actual Loops'], 0);
