import { workflowIds } from '@sop/temporal';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { saveHistory } from '../support/histories';
import { testEnv } from '../support/env';
import { addUser, Http, signupTenant } from '../support/http';
import { Stack, useStack } from '../support/stack';

async function waitFor<T>(probe: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('first round trip: API -> Temporal dev server -> worker activity -> Postgres', () => {
  const ctx = useStack({ worker: true });

  it('starts a workflow whose activity writes to Postgres, once per id', async () => {
    const t = await signupTenant(ctx.http);
    const id = randomUUID();
    const { tenantId } = (await t.admin.get('/api/auth/me')).body;
    const started = await t.admin.post('/api/round-trips', { id });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ id, status: 'pending', workflowId: workflowIds.roundTrip(tenantId, id) });

    const done = await waitFor(() => t.admin.get(`/api/round-trips/${id}`), (r) => r.body.status === 'completed');
    expect(done.body).toMatchObject({ status: 'completed', workerIdentity: `test-worker-${ctx.stack.taskQueue}` });
    const [row] = await ctx.stack.db.query('SELECT status, completed_at FROM round_trips WHERE id = $1', [id]);
    expect(row.status).toBe('completed');

    // The same id again: same round trip, 200, and no second workflow run.
    const repeat = await t.admin.post('/api/round-trips', { id });
    expect(repeat.status).toBe(200);
    expect(repeat.body.completedAt).toBe(done.body.completedAt);

    const connection = await Connection.connect({ address: testEnv('TEMPORAL_ADDRESS') });
    try {
      const client = new Client({ connection });
      const runs = [];
      for await (const wf of client.workflow.list({ query: `WorkflowId = '${workflowIds.roundTrip(tenantId, id)}'` })) runs.push(wf);
      expect(runs.length).toBeLessThanOrEqual(1);
      const handle = client.workflow.getHandle(workflowIds.roundTrip(tenantId, id));
      expect(await handle.result()).toEqual({ workerIdentity: `test-worker-${ctx.stack.taskQueue}` });
      if (process.env.RECORD_HISTORIES) {
        saveHistory('roundTripWorkflow', await handle.fetchHistory());
      }
    } finally {
      await connection.close();
    }
  });

  it('lets ops start a round trip but not employees, and hides other tenants\' round trips', async () => {
    const t = await signupTenant(ctx.http);
    const ops = await addUser(t, ctx.http, 'ops');
    const employee = await addUser(t, ctx.http, 'employee');
    const mine = await ops.client.post('/api/round-trips', {});
    expect(mine.status).toBe(201);
    expect((await employee.client.post('/api/round-trips', {})).status).toBe(403);
    const other = await signupTenant(ctx.http);
    expect((await other.admin.get(`/api/round-trips/${mine.body.id}`)).status).toBe(404);
    // ids are unique per tenant (issue 15): another tenant's id is free here, and answers nothing about theirs
    const theirs = await other.admin.post('/api/round-trips', { id: mine.body.id });
    expect(theirs.status).toBe(201);
    expect(theirs.body.workflowId).not.toBe(mine.body.workflowId);
    expect((await ops.client.get(`/api/round-trips/${mine.body.id}`)).body.workflowId).toBe(mine.body.workflowId);
  });

  it('answers 503 and stores nothing when Temporal is unreachable', async () => {
    const broken = await Stack.start({ env: { TEMPORAL_ADDRESS: '127.0.0.1:1' } });
    try {
      const bhttp = new Http(broken.baseUrl);
      const t = await signupTenant(bhttp);
      const id = randomUUID();
      const res = await t.admin.post('/api/round-trips', { id });
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('TEMPORAL_UNAVAILABLE');
      expect(await broken.db.query('SELECT 1 FROM round_trips WHERE id = $1', [id])).toHaveLength(0);
    } finally {
      await broken.stop();
    }
  });
});
