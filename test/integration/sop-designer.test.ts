import { definitionSchema } from '@sop/domain';
import { createTagSystem } from '../support/fixtures';
import { addUser, signupTenant } from '../support/http';
import { useStack } from '../support/stack';

/** What the SOP designer asks before anything runs: a schedule's next occurrences, a message for a real contact, the list's figures. */
describe('the SOP designer API (real Postgres)', () => {
  const ctx = useStack();

  it("lists a working-days rule's next occurrences in the SOP's zone: holidays skipped and named, a make-up Saturday worked", async () => {
    const t = await signupTenant(ctx.http);
    // 2026-10-01..07 is the National Day holiday and Saturday 2026-10-10 a make-up working day (State Council schedule);
    // the tenant adds its own closure on Friday 2026-10-16.
    expect((await t.admin.put('/api/calendar/days/2026-10-16', { working: false, name: '店庆 Store day' })).status).toBe(200);
    const res = await t.admin.post('/api/sops/preview-schedule', {
      rrule: 'FREQ=DAILY;BYHOUR=8;BYMINUTE=30', timezone: 'Asia/Shanghai', businessDaysOnly: true, count: 10, after: '2026-09-29T00:00:00Z',
    });
    expect(res.status).toBe(200);
    const runs = res.body.occurrences.filter((o: { runs: boolean }) => o.runs).map((o: { local: string }) => o.local);
    expect(runs).toEqual([
      '2026-09-29 08:30', '2026-09-30 08:30', '2026-10-08 08:30', '2026-10-09 08:30', '2026-10-10 08:30',
      '2026-10-12 08:30', '2026-10-13 08:30', '2026-10-14 08:30', '2026-10-15 08:30', '2026-10-19 08:30',
    ]);
    const byDate = Object.fromEntries(res.body.occurrences.map((o: { day: { date: string } }) => [o.day.date, o]));
    expect(byDate['2026-10-01']).toMatchObject({ runs: false, day: { working: false, source: 'cn', name: expect.stringContaining('国庆节') } });
    expect(byDate['2026-10-10']).toMatchObject({ runs: true, weekday: 6, day: { working: true, name: expect.stringContaining('调休上班') } });
    expect(byDate['2026-10-16']).toMatchObject({ runs: false, day: { working: false, source: 'tenant', name: '店庆 Store day' } });
    expect(byDate['2026-09-29'].at).toBe('2026-09-29T00:30:00.000Z'); // 08:30 in Shanghai

    // Every day when the SOP does not keep to business days.
    const all = await t.admin.post('/api/sops/preview-schedule', { rrule: 'FREQ=WEEKLY;BYDAY=FR;BYHOUR=19;BYMINUTE=0', timezone: 'Asia/Shanghai', businessDaysOnly: false, count: 3, after: '2026-09-29T00:00:00Z' });
    expect(all.body.occurrences.map((o: { local: string; runs: boolean }) => [o.local, o.runs])).toEqual([
      ['2026-10-02 19:00', true], ['2026-10-09 19:00', true], ['2026-10-16 19:00', true],
    ]);
  });

  it('refuses a bad rule at its field, and a caller who is not ops', async () => {
    const t = await signupTenant(ctx.http);
    const bad = await t.admin.post('/api/sops/preview-schedule', { rrule: 'FREQ=MINUTELY', timezone: 'Asia/Shanghai' });
    expect(bad.status).toBe(422);
    expect(bad.body).toMatchObject({ code: 'SOP_INVALID', details: [expect.objectContaining({ path: 'rrule' })] });
    const zone = await t.admin.post('/api/sops/preview-schedule', { rrule: 'FREQ=DAILY;BYHOUR=8;BYMINUTE=0', timezone: 'Mars/Olympus' });
    expect(zone.status).toBe(400);
    expect(zone.body.details[0].path).toBe('timezone');
    const employee = await addUser(t, ctx.http, 'employee');
    expect((await employee.client.post('/api/sops/preview-schedule', { rrule: 'FREQ=DAILY;BYHOUR=8;BYMINUTE=0', timezone: 'Asia/Shanghai' })).status).toBe(403);
  });

  it("renders a draft step's message for a contact of the tenant with the engine's scope; refuses a broken template and another tenant's contact", async () => {
    const t = await signupTenant(ctx.http);
    const owner = await addUser(t, ctx.http, 'employee', { name: '王芳' });
    const contact = (await t.admin.post('/api/contacts', { externalId: 'p1', name: '李娜', ownerId: owner.id, attributes: { city: '上海' } })).body;
    const ok = await t.admin.post('/api/sops/preview-message', {
      template: '{{ contact.name }}，您好！我是{{ owner.name }}，{{ contact.attributes.city }}店本周有新品。', contactId: contact.id, sopName: '新客欢迎', stepName: 'Day 0',
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ text: '李娜，您好！我是王芳，上海店本周有新品。', contact: { id: contact.id, name: '李娜' } });

    const unknown = await t.admin.post('/api/sops/preview-message', { template: 'Hi {{ contact.nickname }}', contactId: contact.id });
    expect(unknown.status).toBe(422);
    expect(unknown.body.details[0]).toMatchObject({ path: 'template', problem: expect.stringContaining('nickname') });

    const other = await signupTenant(ctx.http);
    const theirs = (await other.admin.post('/api/contacts', { externalId: 'x1', name: 'Other' })).body;
    const leak = await t.admin.post('/api/sops/preview-message', { template: 'Hi {{ contact.name }}', contactId: theirs.id });
    expect(leak.status).toBe(404);
    expect(leak.body.code).toBe('CONTACT_NOT_FOUND');
  });

  it('lists SOPs with their audience, open enrollments and tasks today and overdue; filters by kind and status', async () => {
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    for (const n of [1, 2, 3]) await t.admin.post('/api/contacts', { externalId: `h${n}`, name: `客户${n}`, tags: [tags.intentHigh.id] });
    const segment = (await t.admin.post('/api/segments', { name: 'High intent', rule: { tag: tags.intentHigh.id } })).body;
    const step = { name: 'Hi', offsetDays: 0, window: { start: '00:00', end: '23:59' }, channel: 'wecom_chat', content: { template: 'Hi' }, executor: { rule: 'contactOwner' } };
    const sop = (await t.admin.post('/api/sops', { name: 'Welcome', definition: { kind: 'journey', audience: { segmentId: segment.id }, steps: [step] } })).body;
    const [{ id: versionId }] = await ctx.stack.db.query(
      `INSERT INTO sop_versions (tenant_id, sop_id, version, definition, segment_ids) SELECT tenant_id, id, 1, definition, segment_ids FROM sops WHERE id = $1 RETURNING id`, [sop.id]);
    await ctx.stack.db.query(`UPDATE sops SET current_version = 1, status = 'active' WHERE id = $1`, [sop.id]);
    const { tenantId } = (await t.admin.get('/api/auth/me')).body;
    const contacts = await ctx.stack.db.query(`SELECT id FROM contacts WHERE tenant_id = $1 ORDER BY external_id`, [tenantId]);
    // one task overdue, one due today (its window open for hours yet: a slow, loaded run cannot make it overdue before the list), one done
    for (const [i, [due, until, status]] of ([['-3 hours', '-1 hour', 'pending'], ['-1 hour', '+3 hours', 'pending'], ['-1 hour', '+1 hour', 'done']] as const).entries()) {
      await ctx.stack.db.query(
        `INSERT INTO tasks (tenant_id, sop_id, sop_version_id, step_index, enrollment_id, contact_id, channel, content, due_at, due_until, status)
         VALUES ($1, $2, $3, 0, $4, $5, 'wecom_chat', 'Hi', now() + $6::interval, now() + $7::interval, $8)`,
        [tenantId, sop.id, versionId, -(i + 1), contacts[i].id, due, until, status]);
    }
    const list = (await t.admin.get('/api/sops')).body;
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ id: sop.id, status: 'active', summary: { audience: 3, openEnrollments: 0, tasksToday: 1, tasksOverdue: 1 } });
    expect((await t.admin.get('/api/sops?kind=recurring')).body).toEqual([]);
    expect((await t.admin.get('/api/sops?status=active&kind=journey')).body).toHaveLength(1);
    expect((await t.admin.get('/api/sops?kind=sometimes')).status).toBe(400);
  });

  it('counts a group audience in the list as the forecast (and dispatch) do: every group when no owner or team is named', async () => {
    const t = await signupTenant(ctx.http);
    const team = (await t.admin.post('/api/teams', { name: 'Store 门店' })).body;
    const inTeam = await addUser(t, ctx.http, 'employee', { teamId: team.id });
    const alone = await addUser(t, ctx.http, 'employee');
    // two groups of a team member, one of an employee without team, one without owner
    for (const [name, ownerId] of [['群 1', inTeam.id], ['群 2', inTeam.id], ['群 3', alone.id], ['群 4', null]] as const) {
      expect((await t.admin.post('/api/groups', { name, ownerId })).status).toBe(201);
    }
    const step = { name: 'Report', dueWithinMinutes: 60, channel: 'group_chat', content: { template: 'Hi' }, executor: { rule: 'groupOwner' } };
    const cases: [string, Record<string, unknown>, number][] = [
      ['every group (the built-in templates)', {}, 4],
      ['one owner', { ownerUserIds: [alone.id] }, 1],
      ['one team', { ownerTeamIds: [team.id] }, 2],
      ['an owner and a team', { ownerUserIds: [alone.id], ownerTeamIds: [team.id] }, 3],
      ['an empty owner list', { ownerUserIds: [] }, 0],
    ];
    const ids = new Map<string, string>();
    for (const [what, groups] of cases) {
      const created = await t.admin.post('/api/sops', { name: what, definition: {
        kind: 'recurring', audience: { groups }, schedule: { rrule: 'FREQ=DAILY;BYHOUR=8;BYMINUTE=30' }, steps: [step] } });
      expect(created.status).toBe(201);
      ids.set(what, created.body.id);
    }
    const list: { id: string; summary: { audience: number } }[] = (await t.admin.get('/api/sops')).body;
    for (const [what, , expected] of cases) {
      const id = ids.get(what)!;
      const reach = (await t.admin.get(`/api/sops/${id}/forecast`)).body.reach;
      // `{ groups: {} }` is every group, for the list as for the forecast
      expect({ what, listed: list.find((s) => s.id === id)?.summary.audience, reach }).toEqual({ what, listed: expected, reach: expected });
    }
  });

  it('checks a draft as a save would, without saving: each problem at its JSON path', async () => {
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const segment = (await t.admin.post('/api/segments', { name: 'High intent', rule: { tag: tags.intentHigh.id } })).body;
    const draft = (window: { start: string; end: string }) => ({
      kind: 'journey', audience: { segmentId: segment.id },
      steps: [{ name: 'Day 0', offsetDays: 0, window, channel: 'wecom_chat', content: { template: '{{ contact.name }}，您好' }, executor: { rule: 'contactOwner' } }],
    });
    const bad = await t.admin.post('/api/sops/check', { definition: draft({ start: '18:00', end: '09:00' }) });
    expect(bad.status).toBe(200);
    expect(bad.body).toEqual({ valid: false, problems: [{ path: 'definition.steps[0].window', problem: 'ends (09:00) before it starts (18:00)' }] });
    expect((await t.admin.post('/api/sops/check', { definition: draft({ start: '09:00', end: '18:00' }) })).body).toEqual({ valid: true, problems: [] });
    expect((await t.admin.get('/api/sops')).body).toEqual([]); // nothing saved
  });

  it('the schema the console checks drafts with is the one the API holds them to: the same cases, the same verdicts', async () => {
    const t = await signupTenant(ctx.http);
    const { tags } = await createTagSystem(t.admin);
    const segment = (await t.admin.post('/api/segments', { name: 'High intent', rule: { tag: tags.intentHigh.id } })).body;
    const step = { name: 'Day 0', offsetDays: 0, window: { start: '09:00', end: '18:00' }, channel: 'wecom_chat', content: { template: 'Hi' }, executor: { rule: 'contactOwner' } };
    const base = { kind: 'journey', audience: { segmentId: segment.id }, steps: [step] };
    const cases: [string, unknown][] = [
      ['a minimal journey', base],
      ['no steps', { ...base, steps: [] }],
      ['a time of day out of range', { ...base, steps: [{ ...step, window: { start: '24:00', end: '25:00' } }] }],
      ['an unknown channel', { ...base, steps: [{ ...step, channel: 'fax' }] }],
      ['an unknown field', { ...base, colour: 'red' }],
      ['a user executor without userId', { ...base, steps: [{ ...step, executor: { rule: 'user' } }] }],
      ['a material that is not http(s)', { ...base, steps: [{ ...step, content: { template: 'Hi', materials: [{ title: 'x', url: 'ftp://x' }] } }] }],
      ['one variant only', { ...base, steps: [{ ...step, content: { template: 'Hi', variants: [{ name: 'A', weight: 1, template: 'A' }] } }] }],
      ['a broadcast time without offset', { ...base, kind: 'broadcast', sendAt: '2030-01-01T10:00:00', steps: [{ ...step, offsetDays: undefined, window: undefined, dueWithinMinutes: 60 }] }],
      ['a recurring SOP for customer groups', { kind: 'recurring', audience: { groups: {} }, schedule: { rrule: 'FREQ=DAILY;BYHOUR=8;BYMINUTE=30' },
        steps: [{ name: 'Report', dueWithinMinutes: 120, channel: 'group_chat', content: { template: 'Morning' }, executor: { rule: 'groupOwner' } }] }],
    ];
    for (const [what, definition] of cases) {
      const browser = definitionSchema.safeParse(definition);
      const api = (await t.admin.post('/api/sops/check', { definition })).body;
      const browserPaths = browser.success ? [] : browser.error.issues.map((i) => i.path.join('.'));
      // The API adds checks of meaning (references, windows against quiet hours) only once the shape is right.
      expect({ what, accepted: api.valid }).toEqual({ what, accepted: browser.success });
      if (!browser.success) expect({ what, problems: api.problems.length > 0 && browserPaths.length > 0 }).toEqual({ what, problems: true });
    }
  });

  it("reads a published version's definition, only within the tenant", async () => {
    const t = await signupTenant(ctx.http);
    const step = { name: 'Hi', dueWithinMinutes: 60, channel: 'group_chat', content: { template: 'Hi' }, executor: { rule: 'groupOwner' } };
    const sop = (await t.admin.post('/api/sops', { name: 'Report', definition: { kind: 'recurring', audience: { groups: {} }, schedule: { rrule: 'FREQ=DAILY;BYHOUR=8;BYMINUTE=30' }, steps: [step] } })).body;
    await ctx.stack.db.query(`INSERT INTO sop_versions (tenant_id, sop_id, version, definition, segment_ids) SELECT tenant_id, id, 1, definition, segment_ids FROM sops WHERE id = $1`, [sop.id]);
    const v1 = await t.admin.get(`/api/sops/${sop.id}/versions/1`);
    expect(v1.status).toBe(200);
    expect(v1.body).toMatchObject({ version: 1, openEnrollments: 0, definition: { kind: 'recurring', schedule: { rrule: 'FREQ=DAILY;BYHOUR=8;BYMINUTE=30' } } });
    expect((await t.admin.get(`/api/sops/${sop.id}/versions/2`)).body.code).toBe('SOP_VERSION_NOT_FOUND');
    expect((await t.admin.get(`/api/sops/${sop.id}/versions/0`)).status).toBe(400);
    const other = await signupTenant(ctx.http);
    const theirs = await other.admin.get(`/api/sops/${sop.id}/versions/1`);
    expect([theirs.status, theirs.body.code]).toEqual([404, 'SOP_NOT_FOUND']);
  });
});
