import { randomUUID } from 'node:crypto';
import { createTagSystem } from '../support/fixtures';
import { addUser, Http, signupTenant } from '../support/http';
import { useStack } from '../support/stack';

/** What the console's import and channel-code screens need of the API beyond the import and the codes themselves. */
describe('imports followed by id, recent imports, and the join page of channel codes (real Postgres)', () => {
  const ctx = useStack();
  const upload = (client: Http, csv: string, query = '') =>
    client.request('POST', `/api/imports/contacts${query}`, csv, { 'content-type': 'text/csv' });

  it('imports under the id the uploader chose, counts new and updated contacts apart, keeps the file name, lists recent imports', async () => {
    const t = await signupTenant(ctx.http);
    const ops = await addUser(t, ctx.http, 'ops');
    expect((await upload(ops.client, 'external_id,name\nk1,老客户\n')).status).toBe(201);

    const id = randomUUID();
    expect((await ops.client.get(`/api/imports/${id}`)).status).toBe(404); // not started yet
    const res = await upload(ops.client, 'external_id,name,email\nk1,老客户 张三,\nn1,新客户 李四,\nn2,新客户 王五,bad\n', `?id=${id}&fileName=${encodeURIComponent('双11名单.csv')}`);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      id, status: 'completed', fileName: '双11名单.csv', processedRows: 3, importedRows: 2, createdRows: 1, updatedRows: 1, errorRows: 1,
      createdBy: ops.id, createdByName: 'Test ops',
    });
    expect(res.body.errors).toEqual([{ row: 4, column: 'email', reason: 'is not an email address' }]);
    expect((await ops.client.get(`/api/imports/${id}`)).body).toEqual(res.body);
    const [row] = await ctx.stack.db.query(`SELECT created_rows, imported_rows, file_name FROM imports WHERE id = $1`, [id]);
    expect(row).toEqual({ created_rows: 1, imported_rows: 2, file_name: '双11名单.csv' });

    // The same id again is refused before anything is kept.
    const again = await upload(ops.client, 'external_id,name\nn9,不该导入\n', `?id=${id}`);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('IMPORT_ID_TAKEN');
    expect((await ops.client.get('/api/contacts?q=n9')).body.items).toEqual([]);
    expect((await upload(ops.client, 'external_id\nx\n', '?id=not-a-uuid')).status).toBe(400);

    // Newest first, without row errors; other organizations' imports are not listed.
    const other = await signupTenant(ctx.http);
    await upload(other.admin, 'external_id\nz1\n');
    const recent = await ops.client.get('/api/imports?limit=5');
    expect(recent.status).toBe(200);
    expect(recent.body.map((i: { id: string }) => i.id)[0]).toBe(id);
    expect(recent.body).toHaveLength(2);
    expect(recent.body[0]).not.toHaveProperty('errors');
    expect(recent.body[1]).toMatchObject({ createdRows: 1, updatedRows: 0, fileName: null });
    const employee = await addUser(t, ctx.http, 'employee');
    expect((await employee.client.get('/api/imports')).status).toBe(403);
  });

  it('gives each channel code a join link whose page lets a customer arrive with the code\'s tags and owner', async () => {
    const t = await signupTenant(ctx.http, '鲜花小铺');
    const { tags } = await createTagSystem(t.admin);
    const owner = await addUser(t, ctx.http, 'employee');
    const created = await t.admin.post('/api/source-codes', { code: 'XHS-2026-11', name: '小红书双11广告', tagIds: [tags.productA.id], ownerId: owner.id });
    expect(created.status).toBe(201);
    const link: string = created.body.joinUrl;
    expect(link).toBe(`${ctx.stack.baseUrl}/j/${created.body.id}`);
    expect((await t.admin.get('/api/source-codes')).body[0].joinUrl).toBe(link);
    expect((await t.admin.get(`/api/source-codes/${created.body.id}`)).body.joinUrl).toBe(link);

    // The page: public, Chinese by default, English when asked, naming the organization and not the code's internal name.
    const page = await fetch(link);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain(t.organization);
    expect(html).toContain('手机号');
    expect(html).not.toContain('小红书双11广告');
    expect(await (await fetch(link, { headers: { 'accept-language': 'en-GB,en;q=0.9' } })).text()).toContain('Mobile number');

    const post = (body: Record<string, string>) => fetch(link, { method: 'POST', body: new URLSearchParams(body) });
    // A bad number or no consent: the form again with the problem and what was typed, nothing kept.
    const bad = await post({ name: '林小姐', phone: '12345', consent: 'yes' });
    expect(bad.status).toBe(200);
    const badPage = await bad.text();
    expect(badPage).toContain('请输入有效的手机号');
    expect(badPage).toContain('value="林小姐"');
    const noConsent = await post({ name: '林小姐', phone: '138 0013 8000' });
    expect(await noConsent.text()).toContain('请勾选同意');
    expect((await t.admin.get('/api/contacts')).body.items).toEqual([]);

    // A response rule for arrivals follows them too.
    const rule = await t.admin.post('/api/response-rules', { name: '扫码加入的新客', when: { kind: 'joined' }, then: { addTagIds: [tags.productB.id] } });
    expect(rule.status).toBe(201);

    // Arrival: a contact with the code's tag and owner; again changes nothing (a stranger with the number cannot rename them).
    for (const name of ['林小姐', '冒名者']) {
      const ok = await post({ name, phone: '+86 138-0013-8000', consent: 'yes' });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('提交成功');
    }
    const contacts = (await t.admin.get('/api/contacts')).body.items;
    expect(contacts).toHaveLength(1);
    expect(contacts[0]).toMatchObject({ externalId: 'phone:13800138000', name: '林小姐', phone: '13800138000', ownerId: owner.id });
    expect(contacts[0].tags.map((x: { id: string }) => x.id).sort()).toEqual([tags.productA.id, tags.productB.id].sort());
    const responses = await ctx.stack.db.query(`SELECT kind, source, data FROM responses WHERE contact_id = $1 ORDER BY id`, [contacts[0].id]);
    expect(responses).toEqual([
      { kind: 'joined', source: 'link', data: { code: 'XHS-2026-11', created: true, via: 'join page' } },
    ]);
    const [event] = await ctx.stack.db.query(`SELECT payload FROM domain_events WHERE type = 'contact.joined' AND payload->>'contactId' = $1`, [contacts[0].id]);
    expect(event.payload).toMatchObject({ sourceCodeId: created.body.id, code: 'XHS-2026-11' });

    // Renaming the code keeps the link; deleting it ends it (404, as for an unknown tracked link).
    expect((await t.admin.patch(`/api/source-codes/${created.body.id}`, { code: 'XHS-2026-12' })).body.joinUrl).toBe(link);
    expect((await t.admin.delete(`/api/source-codes/${created.body.id}`)).status).toBe(204);
    const gone = await ctx.http.get(`/j/${created.body.id}`); // audited against the OpenAPI document
    expect(gone.status).toBe(404);
    expect(gone.body.code).toBe('SOURCE_CODE_NOT_FOUND');
    expect((await ctx.http.get('/j/not-an-id')).status).toBe(404);
    expect((await post({ phone: '13800138001', consent: 'yes' })).status).toBe(404);
    expect((await ctx.http.get(`/j/${created.body.id.replace(/.$/, '0')}`)).body.code).toBe('SOURCE_CODE_NOT_FOUND');
  });
});
