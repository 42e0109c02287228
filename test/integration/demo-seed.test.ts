import { DEMO_PASSWORD, DEMO_USERS, seedDemo } from '@sop/api';
import { Http } from '../support/http';
import { Stack } from '../support/stack';

describe('demo seed of the run command', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await Stack.start();
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
});
