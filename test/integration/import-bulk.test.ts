import { createTagSystem } from '../support/fixtures';
import { Http, signupTenant, type TenantFixture } from '../support/http';
import { useStack } from '../support/stack';

/** The staged, set-based import: COPY into staging, chunked merges on parallel connections, set-based evaluation. */
describe('CSV import, staged and merged set-based (real Postgres)', () => {
  const ctx = useStack();

  const upload = (client: Http, csv: string | Buffer) =>
    client.request('POST', '/api/imports/contacts', csv, { 'content-type': 'text/csv' });
  const contact = async (t: TenantFixture, externalId: string) => {
    const items = (await t.admin.get(`/api/contacts?q=${encodeURIComponent(externalId)}`)).body.items
      .filter((c: { externalId: string }) => c.externalId === externalId);
    expect(items.length).toBeLessThanOrEqual(1);
    return items[0];
  };
  const tagNames = (c: { tags: { name: string }[] }) => c.tags.map((x) => x.name).sort();
  const tenantOf = async (contactId: string): Promise<string> =>
    (await ctx.stack.db.query(`SELECT tenant_id FROM contacts WHERE id = $1`, [contactId]))[0].tenant_id;
  const events = async (tenantId: string, type: string) =>
    (await ctx.stack.db.query(`SELECT payload FROM domain_events WHERE tenant_id = $1 AND type = $2 ORDER BY id`, [tenantId, type]))
      .map((r: { payload: unknown }) => r.payload);
  const openMembers = async (segmentId: string) =>
    (await ctx.stack.db.query(`SELECT contact_id FROM segment_memberships WHERE segment_id = $1 AND exited_at IS NULL ORDER BY contact_id`, [segmentId]))
      .map((r: { contact_id: string }) => r.contact_id);

  it('keeps every valid row of a large file with 10% bad rows, and uses the later row of a repeated id wherever it is', async () => {
    const t = await signupTenant(ctx.http);
    await createTagSystem(t.admin);
    const lines = ['external_id,name,order_count,tags,attr.first,attr.second'];
    for (let i = 0; i < 3000; i++) {
      if (i === 1) lines.push('dup,Earlier,1,Product A,one,');
      else if (i === 2900) lines.push('dup,Later,2,Product B,,two');
      else if (i % 10 === 5) lines.push(`bad-${i},Bad ${i},-1,,,`);
      else lines.push(`ok-${i},Row ${i},${i % 7},${i % 2 ? 'Product A' : ''},x,`);
    }
    const res = await upload(t.admin, lines.join('\n'));
    expect(res.status).toBe(201);
    // 3000 data rows: 300 bad counts, one repeated id; the rest kept.
    expect(res.body).toMatchObject({ status: 'completed', processedRows: 3000, importedRows: 2699, errorRows: 301 });
    const rows = res.body.errors.map((e: { row: number }) => e.row);
    expect(rows).toEqual([...rows].sort((a, b) => a - b)); // in file order, whichever lane found them
    expect(res.body.errors[0]).toEqual({ row: 3, column: 'external_id', reason: 'repeated later in the file; the later row was used' });
    expect(res.body.errors[1]).toEqual({ row: 7, column: 'order_count', reason: 'must be a whole number ≥ 0' });
    expect(res.body.errors).toHaveLength(301);

    // The later row alone decides: its attributes (the earlier row's are not merged in), its tags.
    const dup = await contact(t, 'dup');
    expect(dup).toMatchObject({ name: 'Later', orderCount: 2 });
    expect(dup.attributes).toEqual({ second: 'two' });
    expect(tagNames(dup)).toEqual(['Product B']);
    expect(await contact(t, 'bad-5')).toBeUndefined();
    expect(await contact(t, 'ok-2999')).toMatchObject({ name: 'Row 2999', orderCount: 2999 % 7, attributes: { first: 'x' } });
    expect((await t.admin.get(`/api/imports/${res.body.id}`)).body).toEqual(res.body);
  });

  it('moves imported contacts into and out of segments exactly once, with tag events by import and the usual outbox events', async () => {
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const old = (await t.admin.post('/api/contacts', { externalId: 'old', name: 'Old', attributes: { city: 'Hangzhou' }, tags: [tags.intentLow.id, tags.productA.id] })).body;
    const tenantId = await tenantOf(old.id);
    const seg = (await t.admin.post('/api/segments', { name: 'High intent', rule: { tag: tags.intentHigh.id } })).body;
    expect(await openMembers(seg.id)).toEqual([]);

    const file = 'external_id,tags,attr.level\nold,High 高,3\nnew1,High 高|Product B,1\nnew2,Low 低,2\n';
    const first = await upload(t.admin, file);
    expect(first.body).toMatchObject({ status: 'completed', importedRows: 3, errorRows: 0 });
    const [oldNow, new1, new2] = [await contact(t, 'old'), await contact(t, 'new1'), await contact(t, 'new2')];
    // An existing contact: the exclusive group keeps the new tag only, other tags stay, attributes merge.
    expect(tagNames(oldNow)).toEqual(['High 高', 'Product A']);
    expect(oldNow).toMatchObject({ name: 'Old', attributes: { city: 'Hangzhou', level: 3 } });
    expect(tagNames(new1)).toEqual(['High 高', 'Product B']);
    expect(await openMembers(seg.id)).toEqual([old.id, new1.id].sort());
    // One event per segment and transaction; the two merge connections may each announce their share.
    const entered: { segmentId: string; contactIds: string[] }[] = await events(tenantId, 'segment.entered');
    expect(new Set(entered.map((e) => e.segmentId))).toEqual(new Set([seg.id]));
    expect(entered.flatMap((e) => e.contactIds).sort()).toEqual([old.id, new1.id].sort());
    const tagsChanged = (await events(tenantId, 'contact.tags_changed')).flatMap((p: { contactIds: string[] }) => p.contactIds);
    expect(tagsChanged).toEqual(expect.arrayContaining([old.id, new1.id, new2.id]));
    const timeline = (await t.admin.get(`/api/contacts/${old.id}/timeline`)).body
      .filter((e: { detail: { by: string } }) => e.detail.by === 'import')
      .map((e: { type: string; detail: { tag: string } }) => `${e.type} ${e.detail.tag}`);
    expect(timeline.sort()).toEqual(['tag.added High 高', 'tag.removed Low 低']);

    // The same file again changes nothing and announces nothing.
    const eventsBefore = (await ctx.stack.db.query(`SELECT count(*)::int AS n FROM domain_events WHERE tenant_id = $1 AND type LIKE 'segment.%'`, [tenantId]))[0].n;
    const tagEventsBefore = (await ctx.stack.db.query(`SELECT count(*)::int AS n FROM tag_events WHERE tenant_id = $1`, [tenantId]))[0].n;
    expect((await upload(t.admin, file)).body).toMatchObject({ importedRows: 3 });
    expect((await ctx.stack.db.query(`SELECT count(*)::int AS n FROM domain_events WHERE tenant_id = $1 AND type LIKE 'segment.%'`, [tenantId]))[0].n).toBe(eventsBefore);
    expect((await ctx.stack.db.query(`SELECT count(*)::int AS n FROM tag_events WHERE tenant_id = $1`, [tenantId]))[0].n).toBe(tagEventsBefore);
    expect((await ctx.stack.db.query(`SELECT count(*)::int AS n FROM segment_memberships WHERE segment_id = $1`, [seg.id]))[0].n).toBe(2);

    // Leaving: new1 drops to low intent.
    await upload(t.admin, 'external_id,tags\nnew1,Low 低\n');
    expect(await openMembers(seg.id)).toEqual([old.id]);
    expect(await events(tenantId, 'segment.exited')).toEqual([{ segmentId: seg.id, contactIds: [new1.id] }]);
  });

  it('gives new imported contacts their computed tags before evaluating segments', async () => {
    const t = await signupTenant(ctx.http);
    const group = (await t.admin.post('/api/tag-groups', { name: 'Spend tier', exclusive: true })).body;
    const gold = (await t.admin.post('/api/tags', { groupId: group.id, name: 'Gold', kind: 'computed' })).body;
    expect((await t.admin.post('/api/computed-tags', {
      name: 'tiers', groupId: group.id, cases: [{ tagId: gold.id, when: { metric: { name: 'spend30d', op: 'gte', value: 1000 } } }],
    })).status).toBe(201);
    const seg = (await t.admin.post('/api/segments', { name: 'Gold', rule: { tag: gold.id } })).body;
    const res = await upload(t.admin, 'external_id,spend_30d\nrich,1500\npoor,10\n');
    expect(res.body).toMatchObject({ importedRows: 2, errorRows: 0 });
    const rich = await contact(t, 'rich');
    expect(tagNames(rich)).toEqual(['Gold']);
    expect(tagNames(await contact(t, 'poor'))).toEqual([]);
    expect(await openMembers(seg.id)).toEqual([rich.id]);
  });

  it('stores tabs, backslashes, quotes and line breaks as written, refuses NUL characters, and stays inside the tenant', async () => {
    const a = await signupTenant(ctx.http);
    const b = await signupTenant(ctx.http);
    await upload(b.admin, 'external_id,name\nshared,Tenant B\n');
    const res = await upload(a.admin, [
      'external_id,name,attr.path',
      'shared,"tab\there, back\\\\slash \\N ""quoted""\nsecond line",C:\\\\dir\\\\file',
      'nul,"a\u0000b",',
    ].join('\n'));
    expect(res.body).toMatchObject({ importedRows: 1, errorRows: 1, errors: [{ row: 4, column: 'name', reason: 'contains a NUL character' }] });
    expect(await contact(a, 'shared')).toMatchObject({
      name: 'tab\there, back\\\\slash \\N "quoted"\nsecond line', attributes: { path: 'C:\\\\dir\\\\file' },
    });
    expect(await contact(b, 'shared')).toMatchObject({ name: 'Tenant B' });
  });

  it('reports progress on the import resource while the file is still arriving', async () => {
    const t = await signupTenant(ctx.http);
    const encoder = new TextEncoder();
    let push!: (text: string | null) => void;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        push = (text) => (text === null ? controller.close() : controller.enqueue(encoder.encode(text)));
      },
    });
    const done = fetch(`${ctx.http.baseUrl}/api/imports/contacts`, {
      method: 'POST', headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'text/csv' }, body, duplex: 'half',
    } as RequestInit & { duplex: 'half' });
    let running: { status: string; processedRows: number; importedRows: number } | undefined;
    try {
      push('external_id,name\n' + Array.from({ length: 500 }, (_, i) => `p${i},P ${i}\n`).join(''));
      await new Promise((r) => setTimeout(r, 1200));
      push('p500,P 500\n'); // the first row a second after the last progress write writes it again
      for (let i = 0; i < 50 && !running; i++) {
        const [row] = await ctx.stack.db.query(
          `SELECT i.id FROM imports i JOIN users u ON u.id = i.created_by WHERE u.email = $1`, [t.email]);
        const seen = row ? (await t.admin.get(`/api/imports/${row.id}`)).body : undefined;
        if (seen?.processedRows >= 500) running = seen;
        else await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      push(null);
    }
    expect(running).toMatchObject({ status: 'running', importedRows: 0 });
    expect(running!.processedRows).toBeGreaterThanOrEqual(500);
    const finished = await (await done).json();
    expect(finished).toMatchObject({ status: 'completed', processedRows: 501, importedRows: 501 });
  });
  it('holds the tags it writes until its chunk commits: a tag deleted meanwhile leaves no row behind', async () => {
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const tenantId = (await t.admin.get('/api/auth/me')).body.tenantId;
    // Another session is deleting Product A and holds its row; the import must wait for it, then not refer to it.
    // (Waiting seen among this file's API's sessions only: another test file's session waiting on a lock over some
    // tags query would let the deletion commit before the import got to Product A.)
    const deleter = ctx.stack.db.createQueryRunner();
    await deleter.connect();
    try {
      await deleter.startTransaction();
      await deleter.query(`SELECT 1 FROM tags WHERE id = $1 FOR UPDATE`, [tags.productA.id]);
      const imported = upload(t.admin, 'external_id,tags\nkeep1,Product A|Product B\nkeep2,Product A\n');
      let waiting = 0;
      for (let i = 0; i < 100 && !waiting; i++) {
        await new Promise((r) => setTimeout(r, 100));
        [{ n: waiting }] = await ctx.stack.db.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1
              AND wait_event_type = 'Lock' AND query LIKE '%tags%'`, [ctx.stack.applicationName]);
      }
      expect(waiting).toBeGreaterThan(0);
      await deleter.query(`DELETE FROM contact_tags WHERE tag_id = $1`, [tags.productA.id]);
      await deleter.query(`DELETE FROM tags WHERE id = $1`, [tags.productA.id]);
      await deleter.commitTransaction();
      expect((await imported).body).toMatchObject({ status: 'completed', importedRows: 2 });
    } finally {
      await deleter.release();
    }
    expect(tagNames(await contact(t, 'keep1'))).toEqual(['Product B']);
    const [{ orphans }] = await ctx.stack.db.query(
      `SELECT (SELECT count(*) FROM contact_tags ct WHERE ct.tenant_id = $1 AND NOT EXISTS (SELECT 1 FROM tags g WHERE g.id = ct.tag_id))
            + (SELECT count(*) FROM tag_events e WHERE e.tenant_id = $1 AND NOT EXISTS (SELECT 1 FROM tags g WHERE g.id = e.tag_id)) AS orphans`,
      [tenantId]);
    expect(Number(orphans)).toBe(0);
  });

  it('marks an import failed and lets go of its connections when the upload is cut off', async () => {
    const t = await signupTenant(ctx.http);
    const abort = new AbortController();
    let push!: (text: string) => void;
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (push = (text) => c.enqueue(new TextEncoder().encode(text))) });
    const sent = fetch(`${ctx.http.baseUrl}/api/imports/contacts`, {
      method: 'POST', headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'text/csv' }, body, duplex: 'half', signal: abort.signal,
    } as RequestInit & { duplex: 'half' }).catch((err: Error) => err);
    push('external_id,name\n' + Array.from({ length: 100 }, (_, i) => `x${i},X ${i}\n`).join(''));
    let id: string | undefined;
    for (let i = 0; i < 50 && !id; i++) {
      [{ id } = { id: undefined }] = await ctx.stack.db.query(
        `SELECT i.id FROM imports i JOIN users u ON u.id = i.created_by WHERE u.email = $1`, [t.email]);
      if (!id) await new Promise((r) => setTimeout(r, 100));
    }
    abort.abort();
    expect((await sent as Error).name).toBe('AbortError');
    let seen: { status: string; message: string } | undefined;
    for (let i = 0; i < 50 && seen?.status !== 'failed'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      seen = (await t.admin.get(`/api/imports/${id}`)).body;
    }
    expect(seen).toMatchObject({ status: 'failed', message: expect.stringContaining('stopped after row') });
    expect((await t.admin.get('/api/contacts')).body.items).toEqual([]);
    // Both staging connections went back (or were closed): nothing of this import is left in Postgres. (This file's
    // API's sessions: other test files' imports stage rows with the same COPY meanwhile.)
    const [{ n }] = await ctx.stack.db.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1
          AND state <> 'idle' AND query LIKE 'COPY import_rows%'`, [ctx.stack.applicationName]);
    expect(n).toBe(0);
  });
});
