import * as workflows from '@sop/workflows';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { join } from 'node:path';
import { WORKFLOW_BUNDLE } from '../support/env';
import { loadHistories, machinePathsIn } from '../support/histories';

/**
 * Replays saved histories against today's workflow code: a change that would break running
 * workflows (non-determinism) fails here, before a deploy. Every workflow type needs a history;
 * a test that records one saves it under `RECORD_HISTORIES=1` (never over a saved one). A history
 * named `<type>-<case>.json` is one more case of that type.
 */
describe('replay of saved workflow histories', () => {
  const histories = loadHistories();
  const typeOf = (name: string) => name.replace(/-.*$/, '');

  it('has a saved history for every exported workflow, and every history is of an exported workflow', () => {
    const types = Object.entries(workflows).filter(([, v]) => typeof v === 'function').map(([name]) => name);
    expect(types.length).toBeGreaterThan(0);
    expect(types.filter((t) => !histories.some((h) => typeOf(h.workflowId) === t))).toEqual([]);
    expect(histories.map((h) => typeOf(h.workflowId)).filter((t) => !types.includes(t))).toEqual([]);
  });

  it('keeps the cases the engine must survive a deploy in: continue-as-new, broadcast pause and cancel, held tasks', () => {
    const names = histories.map((h) => h.workflowId);
    expect(names).toEqual(expect.arrayContaining([
      'sopDispatcherWorkflow-continued', 'sopDispatcherWorkflow-after-continue', 'sopDispatcherWorkflow-held',
      'sopBroadcastWorkflow-paused-cancelled', 'sopBroadcastWorkflow-paused-resumed',
    ]));
    const eventTypes = (name: string): string[] => (histories.find((h) => h.workflowId === name)!.json as { events: { eventType: string }[] })
      .events.map((e) => e.eventType);
    // The run that continued ends so; the next run starts from its input (carried state), and both replay below.
    expect(eventTypes('sopDispatcherWorkflow-continued').at(-1)).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
    for (const name of ['sopBroadcastWorkflow-paused-cancelled', 'sopBroadcastWorkflow-paused-resumed']) {
      expect(eventTypes(name).filter((t) => t === 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED').length).toBeGreaterThanOrEqual(2);
    }
  });

  it('carries none of the recording machine\'s folders (stack traces and messages are scrubbed when saved)', () => {
    expect(histories.flatMap((h) => machinePathsIn(h.json).map((at) => `${h.workflowId}: ${at}`))).toEqual([]);
  });

  it('replays every saved history without non-determinism', async () => {
    const results = [];
    for await (const r of Worker.runReplayHistories({ workflowBundle: { codePath: WORKFLOW_BUNDLE } }, histories)) {
      results.push({ workflowId: r.workflowId, error: r.error ? String(r.error) : null });
    }
    expect(results).toEqual(histories.map(({ workflowId }) => ({ workflowId, error: null })));
  });

  /**
   * The guard itself: a changed dispatcher (fixtures, bundled under the deployed type name) that runs one
   * more activity before its first pass. Without `patched()` the saved histories must fail replay with a
   * non-determinism error (the deploy would break running dispatchers); behind `patched()` they replay.
   */
  describe('a workflow change against the saved dispatcher histories', () => {
    const dispatcherHistories = histories.filter((h) => typeOf(h.workflowId) === 'sopDispatcherWorkflow');
    const replayWith = async (fixture: string) => {
      const { code } = await bundleWorkflowCode({ workflowsPath: join(__dirname, 'fixtures', fixture), logger: quietLogger });
      const results: { workflowId: string; error?: unknown }[] = [];
      for await (const r of Worker.runReplayHistories({ workflowBundle: { code } }, dispatcherHistories)) results.push(r);
      return results;
    };

    it('fails replay without patched()', async () => {
      expect(dispatcherHistories.length).toBeGreaterThanOrEqual(3);
      const results = await replayWith('dispatcher-unpatched.workflow.ts');
      expect(results).toHaveLength(dispatcherHistories.length);
      for (const r of results) {
        expect(r.error).toBeInstanceOf(DeterminismViolationError);
        expect(String(r.error)).toMatch(/[Nn]ondetermin/);
      }
    }, 120_000);

    it('replays behind patched()', async () => {
      const results = await replayWith('dispatcher-patched.workflow.ts');
      expect(results.map((r) => ({ workflowId: r.workflowId, error: r.error ? String(r.error) : null })))
        .toEqual(dispatcherHistories.map(({ workflowId }) => ({ workflowId, error: null })));
    }, 120_000);
  });
});

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: console.warn, error: console.error, log: noop };
