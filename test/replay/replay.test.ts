import * as workflows from '@sop/workflows';
import { Worker } from '@temporalio/worker';
import { WORKFLOW_BUNDLE } from '../support/env';
import { loadHistories } from '../support/histories';

/**
 * Replays saved histories against today's workflow code: a change that would break running
 * workflows (non-determinism) fails here, before a deploy. Every workflow type needs a history;
 * record them with `RECORD_HISTORIES=1 npm test`.
 */
describe('replay of saved workflow histories', () => {
  const histories = loadHistories();

  it('has a saved history for every exported workflow', () => {
    const types = Object.entries(workflows).filter(([, v]) => typeof v === 'function').map(([name]) => name);
    expect(types.length).toBeGreaterThan(0);
    expect(types.filter((t) => !histories.some((h) => h.workflowId === t))).toEqual([]);
  });

  it('replays every saved history without non-determinism', async () => {
    const results = [];
    for await (const r of Worker.runReplayHistories({ workflowBundle: { codePath: WORKFLOW_BUNDLE } }, histories)) {
      results.push({ workflowId: r.workflowId, error: r.error ? String(r.error) : null });
    }
    expect(results).toEqual(histories.map(({ workflowId }) => ({ workflowId, error: null })));
  });
});
