import { DEMO_PASSWORD, DEMO_USERS, seedDemo, seedDemoWork } from '@sop/api';
import { zoneWithOpenWindow } from '../support/clock';
import { Http } from '../support/http';
import { Stack } from '../support/stack';

describe('demo seed of the run command', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await Stack.start({ worker: true });
  });
  afterAll(() => stack.stop());

  it('creates the documented logins once; every one of them works over HTTP', async () => {
    const first = await seedDemo(stack.db);
    const second = await seedDemo(stack.db);
    expect(second).toEqual({ created: false, tenantId: first.tenantId });
    const http = new Http(stack.baseUrl);
    for (const u of DEMO_USERS) {
      const login = await http.post('/api/auth/login', { email: u.email, password: DEMO_PASSWORD });
      expect(login.status).toBe(200);
      const me = await http.as(login.body.accessToken).get('/api/auth/me');
      expect(me.body).toMatchObject({ role: u.role, email: u.email, tenantId: first.tenantId });
    }
    const [team] = await stack.db.query(
      `SELECT t.name, count(u.id)::int AS members FROM teams t JOIN users u ON u.team_id = t.id WHERE t.tenant_id = $1 GROUP BY t.name`,
      [first.tenantId],
    );
    expect(team).toEqual({ name: 'Shanghai Store 上海门店', members: 3 });
  });

  it("gives the employees a day of work: the demo journey fills their inboxes with today's tasks", async () => {
    // the demo's customers where its all-day window (00:00-23:59) is open for hours yet (test/support/clock.ts): in the last
    // minute of the Shanghai day, their day-0 tasks would come at midnight
    const work = await seedDemoWork(stack.baseUrl, DEMO_PASSWORD, { timezone: zoneWithOpenWindow() });
    expect(work.contacts).toBe(12);
    const http = new Http(stack.baseUrl);
    const login = await http.post('/api/auth/login', { email: 'employee1@demo.example', password: DEMO_PASSWORD });
    const employee = http.as(login.body.accessToken);
    let today: { items: { contactName: string; content: string; materials: unknown[] }[] } = { items: [] };
    for (let i = 0; i < 100 && today.items.length < 4; i++) {
      await new Promise((r) => setTimeout(r, 200));
      today = (await employee.get('/api/inbox/tasks?list=today')).body;
    }
    // employee1 owns the 6 odd-numbered demo customers; 4 of them are high intent, the journey's audience
    expect(today.items).toHaveLength(4);
    expect(today.items[0].content).toMatch(/，您好！我是Zhang Wei 张伟。/);
    expect(today.items[0].materials).toHaveLength(1);
  });
});
