import { localWecomKey } from '@sop/api';
import { createEngineWorker } from '@sop/worker';
import { WecomAccess } from '@sop/wecom';
import { NativeConnection } from '@temporalio/worker';
import { randomBytes } from 'node:crypto';
import { testEnv, WORKFLOW_BUNDLE } from '../support/env';
import { checkPageInBothLanguages, confirmPopconfirm, screenshot, signIn, switchLang, useConsoleStack } from '../support/console';
import { addUser, signupTenant } from '../support/http';
import { eventually } from '../support/poll';
import { serveDirectory, WecomDirectory } from '../support/wecom-directory';
import { newCorp, useWecomServer, WecomServer } from '../support/wecom-server';

/** Issue 16: an admin connects WeCom in the console, against a local WeCom that checks the details as WeCom does. */
describe('the WeCom connection page (Chromium)', () => {
  const JWT_SECRET = randomBytes(32).toString('hex');
  const env: Record<string, string> = { JWT_SECRET };
  const local = useWecomServer(env);
  const ctx = useConsoleStack({ env });
  jest.setTimeout(120_000);

  /** A worker on the stack's task queue that can open the connection's secrets (the stack's runs none). */
  async function startWorker() {
    const connection = await NativeConnection.connect({ address: testEnv('TEMPORAL_ADDRESS') });
    const worker = await createEngineWorker({
      connection, namespace: 'default', db: ctx.stack.db, taskQueue: ctx.stack.taskQueue, identity: 'wecom-e2e',
      workflowBundle: { codePath: WORKFLOW_BUNDLE }, wecom: new WecomAccess({ secretKeys: [localWecomKey(JWT_SECRET)], apiBase: local().baseUrl }),
    });
    const running = worker.run();
    return { stop: async () => { worker.shutdown(); await running; await connection.close(); } };
  }

  it('shows WeCom\'s refusal at its field, connects, shows the callback address and what arrived, disconnects', async () => {
    const t = await signupTenant(ctx.http, 'WeCom Console');
    const corp = local().add(newCorp());
    const context = await ctx.browser.newContext({ locale: 'zh-CN', viewport: { width: 1440, height: 900 } });
    context.setDefaultTimeout(20_000);
    const page = await context.newPage();
    await signIn(page, ctx.stack.baseUrl, t.email, t.password);
    await switchLang(page, 'zh');
    await page.getByRole('navigation').first().getByText('企业微信').click();
    await page.getByTestId('wecom-not-connected').waitFor();

    const fill = async (label: string, value: string) => page.getByLabel(label, { exact: true }).fill(value);
    await fill('企业 ID（CorpID）', corp.corpId);
    await fill('自建应用 AgentId', corp.agentId);
    await fill('客户联系 Secret', 'not-the-contact-secret');
    await fill('自建应用 Secret', corp.agentSecret);
    await fill('回调 Token', corp.callbackToken);
    await fill('回调 EncodingAESKey', corp.encodingAesKey);
    await page.getByTestId('wecom-save').click();
    // WeCom's refusal, in Chinese, at the field it names; nothing saved
    await page.locator('.ant-form-item', { hasText: '客户联系 Secret' }).locator('.ant-form-item-explain-error')
      .filter({ hasText: '企业微信拒绝了它（错误码 40001' }).waitFor();
    expect((await t.admin.get('/api/wecom/connection')).status).toBe(404);

    await fill('客户联系 Secret', corp.contactSecret);
    await page.getByTestId('wecom-save').click();
    const callbackUrl = page.getByTestId('wecom-callback-url');
    await callbackUrl.waitFor();
    const url = await callbackUrl.inputValue();
    expect(url).toMatch(/\/api\/wecom\/callback\/[A-Za-z0-9_-]{32}$/);
    // the secrets are gone from the page: only their last 4 characters, as placeholders (the fields are optional now)
    await eventually(async () => expect(await page.locator('#contactSecret').getAttribute('placeholder')).toContain(`…${corp.contactSecret.slice(-4)}`));
    expect(await page.content()).not.toContain(corp.contactSecret);
    await screenshot(page, 'wecom-connected-zh');

    // WeCom calls the address: the page says so
    const { query, body } = WecomServer.delivery(corp, `<xml><ToUserName>${corp.corpId}</ToUserName><MsgType>event</MsgType><Event>change_external_contact</Event><ChangeType>add_external_contact</ChangeType><ExternalUserID>wmE1</ExternalUserID></xml>`);
    expect((await ctx.http.request('POST', `${new URL(url).pathname}?${query}`, body, { 'content-type': 'text/xml' })).body).toBe('success');
    await eventually(async () => {
      await page.reload();
      await page.getByTestId('wecom-status').getByText('近 24 小时事件').waitFor();
      expect(await page.getByTestId('wecom-status').locator('.ant-descriptions-item', { hasText: '近 24 小时事件' }).locator('.ant-descriptions-item-content').textContent()).toBe('1');
    }, 20_000);
    // this stack runs no worker: the event waits, and the page says so (applying it is wecom-events.test.ts)
    expect(await page.getByTestId('wecom-status').locator('.ant-descriptions-item', { hasText: '待处理事件' }).locator('.ant-descriptions-item-content').textContent()).toBe('1');
    expect(await page.getByTestId('wecom-status').locator('.ant-descriptions-item', { hasText: '最近处理' }).locator('.ant-descriptions-item-content').textContent()).toBe('尚未处理');
    // a full sync from the console: its run and counts, then the member WeCom gave no email for, matched by hand
    const dir = new WecomDirectory().member({ userid: 'zhangsan', name: '张三' })
      .contact({ external_userid: 'wmE1', name: '客户甲', follows: [{ userid: 'zhangsan', createtime: 1 }] });
    serveDirectory(local(), new Map([[corp.corpId, dir]]));
    const employee = await addUser(t, ctx.http, 'employee', { name: '王芳' });
    // a worker from here on (the event above is applied by it too; wecom-events.test.ts checks that)
    const worker = await startWorker();
    await page.getByTestId('wecom-sync-start').click();
    await page.getByTestId('wecom-sync').locator('.ant-badge', { hasText: '成功' }).waitFor({ timeout: 60_000 });
    // the pair read (not "new customers": the waiting event may create the contact before the sync does, now that
    // the local WeCom's directory answers externalcontact/get)
    await page.getByTestId('wecom-sync').getByText('客户-成员关系 1').waitFor();
    const members = page.getByTestId('wecom-members');
    await members.locator('.ant-table-row', { hasText: '张三' }).getByText('企业微信未提供').waitFor();
    await eventually(async () => { // a pick made while the search still answers can miss: search and pick again until it took
      const [member] = (await t.admin.get('/api/wecom/members')).body.items;
      if (member.userId !== employee.id) {
        await members.getByLabel('张三 对应的用户').fill('王芳');
        await page.locator('.ant-select-item-option:visible', { hasText: '王芳' }).first().click({ timeout: 3000 });
      }
      expect((await t.admin.get('/api/wecom/members')).body.items[0]).toMatchObject({ userId: employee.id, matchedBy: 'hand' });
    }, 30_000);
    await members.locator('.ant-table-row', { hasText: '张三' }).locator('.ant-tag', { hasText: '手动' }).waitFor();
    // an incremental sync from its own button: each run shows its kind; it reads again the member matched by hand
    const runRows = page.getByTestId('wecom-sync').locator('.ant-table-row');
    await runRows.first().locator('.ant-tag', { hasText: '全量' }).waitFor();
    await page.getByTestId('wecom-sync-incremental').click();
    await eventually(async () => {
      expect(await runRows.count()).toBe(2);
      expect(await runRows.first().locator('.ant-tag').textContent()).toBe('增量');
      expect(await runRows.first().locator('.ant-badge').textContent()).toBe('成功');
    }, 60_000);
    await runRows.first().getByText('重读成员 1').waitFor();
    expect((await t.admin.get('/api/wecom/sync-runs')).body.items.map((r: { kind: string; status: string }) => [r.kind, r.status]))
      .toEqual([['incremental', 'succeeded'], ['full', 'succeeded']]);
    await screenshot(page, 'wecom-synced-zh');
    await worker.stop();

    await checkPageInBothLanguages(page, 'wecom', async (lang) => {
      await page.getByRole('heading', { name: lang === 'zh' ? '企业微信' : 'WeCom' }).waitFor();
    });

    // a contact's tag push given up after 5 failures that were not WeCom's answer: counted and its error shown
    const [pushed] = await ctx.stack.db.query(
      `SELECT c.id, c.tenant_id FROM contacts c JOIN wecom_connections w ON w.tenant_id = c.tenant_id WHERE w.corp_id = $1 AND c.wecom_external_user_id = 'wmE1'`, [corp.corpId]);
    await ctx.stack.db.query(
      `INSERT INTO wecom_tag_pushes (tenant_id, contact_id, attempts, last_error, error, failed_at, given_up)
       VALUES ($1, $2, 5, 'externalcontact/get answered no usable follow_user list', 'externalcontact/get answered no usable follow_user list (gave up after 5 attempts)', now(), true)`,
      [pushed.tenant_id, pushed.id]);
    await switchLang(page, 'zh');
    await page.reload();
    const givenUp = page.getByTestId('wecom-tag-pushes-given-up');
    await givenUp.getByText('1 位客户的标签连续 5 次同步出错，已停止重试，直到其标签再次变化').waitFor();
    await givenUp.getByText(/gave up after 5 attempts/).waitFor();
    await page.getByTestId('wecom-tag-pushes').getByText('待同步 0，失败 1').waitFor();

    await switchLang(page, 'en');
    await givenUp.getByText('1 contact whose tags failed to send 5 times in a row: not retried until their tags change again').waitFor();
    await page.getByTestId('wecom-sync').locator('.ant-table-row').first().locator('.ant-tag', { hasText: 'Incremental' }).waitFor();
    await page.getByTestId('wecom-sync-incremental').getByText('Incremental sync').waitFor();
    const disconnected = page.waitForResponse((r) => r.url().endsWith('/api/wecom/connection') && r.request().method() === 'DELETE', { timeout: 70_000 });
    await confirmPopconfirm(page, page.getByRole('button', { name: 'Disconnect' }), 'Disconnect WeCom?');
    expect((await disconnected).ok()).toBe(true);
    await page.getByTestId('wecom-not-connected').waitFor();
    expect((await t.admin.get('/api/wecom/connection')).status).toBe(404);
    await context.close();
  });
});
