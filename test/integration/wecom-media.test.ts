import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { useStack } from '../support/stack';
import { massSendPass, massSendWorld, WecomMassSendDesk } from '../support/wecom-mass-send';
import { WecomMediaDesk } from '../support/wecom-media';
import { newCorp, useWecomServer } from '../support/wecom-server';

const MIN = 60_000;
const BROWSER = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47';
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(2048)]);

/**
 * Issue 16 item 5, attachments: a mass-sent step's image materials go to WeCom as uploaded images (one upload per
 * image for all the templates of a pass, re-uploaded when the kept media_id is about to expire), its link materials
 * through the template's tracked link, whose opens count; WeCom's limits are refused when the SOP is saved. Real
 * Postgres and Temporal, the worker's real activities, a local WeCom and a local image host.
 */
describe('WeCom mass-send attachments: images uploaded, links tracked per template (real Postgres and Temporal, a local WeCom)', () => {
  const env: Record<string, string> = { JWT_SECRET: randomBytes(32).toString('hex'), NOTIFY_INSECURE_TARGET_HOSTS: '127.0.0.1' };
  const local = useWecomServer(env);
  const ctx = useStack({ worker: true, env });
  let desk: WecomMassSendDesk;
  let media: WecomMediaDesk;
  let images: Server;
  let imageBase = '';
  /** what the image host serves, by path */
  const files = new Map<string, Buffer>();

  beforeAll(async () => {
    desk = new WecomMassSendDesk(local());
    media = new WecomMediaDesk(local(), desk);
    images = createServer((req, res) => {
      const body = files.get(req.url ?? '');
      if (!body) return res.writeHead(404).end();
      // /slow/…: an image host that takes its time
      setTimeout(() => res.writeHead(200, { 'content-type': 'image/png', 'content-length': body.length }).end(body), req.url?.startsWith('/slow/') ? 1500 : 0);
    });
    await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve));
    imageBase = `http://127.0.0.1:${(images.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => images.close(() => resolve())));

  /** The mass-send world, materials fetched over http (the local image host), its SOPs showing materials. */
  async function world(label: string) {
    const w = await massSendWorld(ctx, local(), label);
    expect((await w.t.admin.put('/api/settings/materials', { allowHttp: true })).status).toBe(200); // the local image host is http
    const material = async (kind: string, title: string, url: string) => {
      const res = await w.t.admin.post('/api/materials', { kind, title, url });
      expect(res.status).toBe(201);
      return res.body.id as string;
    };
    const picks = (...ids: string[]) => ids.map((materialId) => ({ materialId, title: 'picked', url: 'https://picked.example/' }));
    /** The step's fields: its content shows `materials` unless `step` gives its own. */
    const showing = (materials: unknown[], step: Record<string, unknown>) => ({ content: { template: '本周新品上架', materials }, ...step });
    const definition = (materials: unknown[], step: Record<string, unknown> = {}) => w.definition(showing(materials, step));
    /** An active SOP whose step shows `materials`, its tasks made now; its id. */
    const sop = async (name: string, materials: unknown[], step: Record<string, unknown> = {}) => {
      const sopId = await w.sop(name, showing(materials, step));
      await w.materialize(sopId, new Date());
      return sopId;
    };
    return { ...w, material, picks, definition, sop };
  }

  const sweep = (tenantId: string, now: Date) => massSendPass(ctx.stack, tenantId, now);

  const templatesOf = (corpId: string) => desk.templates.filter((x) => x.corpId === corpId);

  it('uploads an image once for the templates of a pass, attaches its media_id and the template\'s tracked link, whose opens count', async () => {
    files.set('/img/coupon.png', PNG);
    const w = await world('Media');
    const alice = await w.member('zhangsan');
    const bob = await w.member('lisi');
    await w.contact('a1', alice.id);
    await w.contact('a2', alice.id);
    await w.contact('b1', bob.id);
    const image = await w.material('image', '新品海报', `${imageBase}/img/coupon.png`);
    const link = await w.material('link', '新品', 'https://shop.example/new');
    const sopId = await w.sop('Poster and link', w.picks(image, link));

    expect(await sweep(w.tenantId, new Date())).toMatchObject({ created: 2, handed: 3 });
    const uploads = media.uploadsOf(w.corp.corpId);
    expect(uploads).toHaveLength(1); // two templates, one upload
    expect(uploads[0]).toMatchObject({ via: 'upload', bytes: PNG.length });
    const templates = templatesOf(w.corp.corpId);
    expect(templates).toHaveLength(2);
    for (const template of templates) {
      expect(template.attachments).toEqual([
        { msgtype: 'image', image: { media_id: uploads[0].mediaId } },
        { msgtype: 'link', link: { title: '新品', url: expect.stringMatching(new RegExp(`^${ctx.stack.baseUrl}/r/w\\d+-1-[A-Za-z0-9_-]{22}$`)) } },
      ]);
    }
    // one link per template (its customers all get the same one), not per task
    const links = templates.map((x) => (x.attachments[1].link as { url: string }).url);
    expect(new Set(links).size).toBe(2);

    // a customer opens Alice's template's link: redirected to the material and counted, on the template's first task
    const aliceLink = links[templates.findIndex((x) => x.sender === 'zhangsan')];
    const open = (url: string, ua = BROWSER) => fetch(url, { redirect: 'manual', headers: { 'user-agent': ua } });
    const res = await open(aliceLink);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('https://shop.example/new');
    expect((await open(aliceLink)).status).toBe(302);
    expect((await open(aliceLink, 'TelegramBot (like TwitterBot)')).status).toBe(302); // a preview: not counted
    const [opened] = await ctx.stack.db.query(
      `SELECT sum(o.opens)::int AS opens, bool_and(o.batch) AS batch, min(o.task_id::text) AS task_id, min(o.material_index) AS idx
         FROM link_opens o JOIN tasks t ON t.id = o.task_id WHERE t.sop_id = $1`, [sopId]);
    expect(opened).toMatchObject({ opens: 2, batch: true, idx: 1 });
    const [first] = await ctx.stack.db.query(
      `SELECT min(t.id)::text AS id FROM tasks t JOIN wecom_mass_sends m ON m.id = t.wecom_mass_send_id WHERE t.sop_id = $1 AND m.sender = 'zhangsan'`, [sopId]);
    expect(opened.task_id).toBe(first.id);
    // the library counts the opens; no contact is named (one link went to every customer of the template), so no response
    const stats = (await w.t.admin.get(`/api/materials/${link}`)).body.stats;
    expect(stats).toMatchObject({ sent: 3, opens: 2, openedContacts: 0 });
    const [{ n }] = await ctx.stack.db.query(`SELECT count(*)::int AS n FROM responses WHERE sop_id = $1 AND kind = 'opened'`, [sopId]);
    expect(n).toBe(0);
    // a wrong secret is an unknown link
    expect((await open(aliceLink.replace(/-[A-Za-z0-9_-]{22}$/, `-${'A'.repeat(22)}`))).status).toBe(404);

    // a second SOP with the same image a minute later: WeCom's media_id is kept (3 days), not uploaded again
    await w.sop('Same poster', w.picks(image), { content: { template: '再看一眼', materials: w.picks(image) } });
    expect(await sweep(w.tenantId, new Date(Date.now() + MIN))).toMatchObject({ created: 2 });
    expect(media.uploadsOf(w.corp.corpId)).toHaveLength(1);
    expect(templatesOf(w.corp.corpId).slice(2).map((x) => x.attachments)).toEqual([
      [{ msgtype: 'image', image: { media_id: uploads[0].mediaId } }], [{ msgtype: 'image', image: { media_id: uploads[0].mediaId } }]]);
  });

  it('uploads the image again when its media_id is about to expire, and when the image changed', async () => {
    files.set('/img/expiring.png', PNG);
    const w = await world('Media expiry');
    const alice = await w.member('zhangsan');
    await w.contact('a1', alice.id);
    const image = await w.material('image', '海报', `${imageBase}/img/expiring.png`);
    await w.sop('First', w.picks(image));
    await sweep(w.tenantId, new Date());
    expect(media.uploadsOf(w.corp.corpId)).toHaveLength(1);

    // 3 days on: WeCom has forgotten it, and we keep it with less than an hour left
    media.expireAll();
    await ctx.stack.db.query(`UPDATE wecom_media SET expires_at = now() + interval '30 minutes' WHERE tenant_id = $1`, [w.tenantId]);
    await w.sop('Second', w.picks(image), { content: { template: '第二次', materials: w.picks(image) } });
    await sweep(w.tenantId, new Date(Date.now() + MIN));
    const uploads = media.uploadsOf(w.corp.corpId);
    expect(uploads).toHaveLength(2);
    const second = templatesOf(w.corp.corpId)[1];
    expect(second.attachments).toEqual([{ msgtype: 'image', image: { media_id: uploads[1].mediaId } }]);
    expect((await ctx.stack.db.query(`SELECT status FROM wecom_mass_sends WHERE msgid = $1`, [second.msgid]))[0].status).toBe('waiting');

    // the same address now serves another picture: its bytes are new, so it is uploaded, not confused with the old one
    files.set('/img/expiring.png', Buffer.concat([PNG.subarray(0, 8), randomBytes(1024)]));
    await w.sop('Third', w.picks(image), { content: { template: '第三次', materials: w.picks(image) } });
    await sweep(w.tenantId, new Date(Date.now() + 2 * MIN));
    expect(media.uploadsOf(w.corp.corpId)).toHaveLength(3);

    // WeCom forgets a media_id we still hold for alive (its clock, not ours): its 40007 makes us upload again and send once more
    media.expireAll();
    await w.sop('Fourth', w.picks(image), { content: { template: '第四次', materials: w.picks(image) } });
    expect(await sweep(w.tenantId, new Date(Date.now() + 3 * MIN))).toMatchObject({ created: 1 });
    const all = media.uploadsOf(w.corp.corpId);
    expect(all).toHaveLength(4);
    expect(templatesOf(w.corp.corpId)[3].attachments).toEqual([{ msgtype: 'image', image: { media_id: all[3].mediaId } }]);
  });

  it('refuses at save what WeCom would refuse: an image over 10 MB, a gif, too many attachments, images mixed with a link in Moments', async () => {
    files.set('/img/huge.png', Buffer.concat([PNG.subarray(0, 8), Buffer.alloc(10 * 1024 * 1024 + 1)]));
    files.set('/img/anim.gif', Buffer.from('GIF89a..........'));
    files.set('/img/ok.png', PNG);
    const w = await world('Media limits');
    const huge = await w.material('image', '大图', `${imageBase}/img/huge.png`);
    const gif = await w.material('image', '动图', `${imageBase}/img/anim.gif`);
    const ok = await w.material('image', '小图', `${imageBase}/img/ok.png`);
    const link = await w.material('link', '新品', 'https://shop.example/new');
    const save = (materials: unknown[], step: Record<string, unknown> = {}) =>
      w.t.admin.post('/api/sops', { name: `Limits ${randomBytes(3).toString('hex')}`, definition: w.definition(materials, step) });

    const oversized = await save(w.picks(ok, huge));
    expect(oversized.status).toBe(422);
    expect(oversized.body.details).toEqual([{ path: 'definition.steps[0].content.materials[1]', problem: expect.stringContaining('10 MB') }]);
    const wrongType = await save(w.picks(gif));
    expect(wrongType.status).toBe(422);
    expect(wrongType.body.details).toEqual([{ path: 'definition.steps[0].content.materials[0]', problem: expect.stringContaining('jpg or png') }]);
    const tooMany = await save(w.picks(...Array(10).fill(link)));
    expect(tooMany.status).toBe(422);
    expect(tooMany.body.details).toEqual([{ path: 'definition.steps[0].content.materials', problem: expect.stringContaining('at most 9') }]);
    const mixed = await save(w.picks(ok, link), { channel: 'moments' });
    expect(mixed.status).toBe(422);
    expect(mixed.body.details).toEqual([
      { path: 'definition.steps[0].content.materials', problem: expect.stringContaining('not both') },
      { path: 'definition.steps[0].content.materials[1]', problem: expect.stringContaining('cover') }]);
    // a Moments link without a cover: WeCom posts a link only with its cover image
    const uncovered = await save([{ title: '新品', url: 'https://shop.example/new' }], { channel: 'moments' });
    expect(uncovered.status).toBe(422);
    expect(uncovered.body.details).toEqual([{ path: 'definition.steps[0].content.materials[0]', problem: expect.stringContaining('cover') }]);
    // the same big image on a step that is not handed to WeCom is the employee's to send by hand: saved
    expect((await save(w.picks(huge), { wecomMassSend: false })).status).toBe(201);
    // a pasted material cannot claim to be an image (only the library's are read and uploaded)
    const claimed = await save([{ title: 'x', url: 'https://x.example/a.png', kind: 'image' }]);
    expect(claimed.status).toBe(422);
    expect(claimed.body.details).toEqual([{ path: 'definition.steps[0].content.materials[0].kind', problem: expect.any(String) }]);
  });

  it('reads a slow image before the save locks the SOP: its row is free while the image host answers', async () => {
    files.set('/slow/new.png', PNG);
    const w = await world('Slow image');
    const slow = await w.material('image', '慢图', `${imageBase}/slow/new.png`);
    const created = await w.t.admin.post('/api/sops', { name: `Slow ${randomBytes(3).toString('hex')}`, definition: w.definition([]) });
    expect(created.status).toBe(201);
    const saving = w.t.admin.patch(`/api/sops/${created.body.id}`, { definition: w.definition(w.picks(slow)) });
    await new Promise((r) => setTimeout(r, 600));
    // before: the save's transaction held the row FOR UPDATE while it read the image
    const [row] = await ctx.stack.db.query(`SELECT id FROM sops WHERE id = $1 FOR UPDATE NOWAIT`, [created.body.id]);
    expect(row.id).toBe(created.body.id);
    const saved = await saving;
    expect(saved.status).toBe(200);
    expect(saved.body.definition.steps[0].content.materials).toEqual([expect.objectContaining({ materialId: slow, kind: 'image' })]);
  });

  it('leaves the tasks to the executor with the reason when the image became unacceptable after the save', async () => {
    files.set('/img/changing.png', PNG);
    const w = await world('Media refused');
    const alice = await w.member('zhangsan');
    await w.contact('a1', alice.id);
    const image = await w.material('image', '会变的图', `${imageBase}/img/changing.png`);
    const sopId = await w.sop('Changing', w.picks(image));
    files.set('/img/changing.png', Buffer.from('GIF89a..........')); // replaced by a gif after the SOP was saved

    expect(await sweep(w.tenantId, new Date())).toMatchObject({ created: 0 });
    expect(templatesOf(w.corp.corpId)).toHaveLength(0);
    const [task] = await ctx.stack.db.query(
      `SELECT t.status, t.wecom_send_state AS state, m.status AS send, m.error FROM tasks t JOIN wecom_mass_sends m ON m.id = t.wecom_mass_send_id WHERE t.sop_id = $1`,
      [sopId]);
    expect(task).toMatchObject({ status: 'pending', state: 'failed', send: 'failed', error: expect.stringContaining('jpg or png') });
    // The executor's task says why, beside its state.
    const [{ id }] = await ctx.stack.db.query(`SELECT id::text FROM tasks WHERE sop_id = $1`, [sopId]);
    const detail = (await w.t.admin.get(`/api/inbox/tasks/${id}`)).body;
    expect(detail).toMatchObject({ wecomSendState: 'failed', wecomSendError: task.error });
  });

  it('posts a Moments task with images uploaded as Moments attachments', async () => {
    files.set('/img/moment.png', PNG);
    const w = await world('Media moments');
    const alice = await w.member('zhangsan');
    await w.contact('a1', alice.id);
    const image = await w.material('image', '朋友圈图', `${imageBase}/img/moment.png`);
    await w.sop('Moments post', w.picks(image, image), { channel: 'moments' });
    expect(await sweep(w.tenantId, new Date())).toMatchObject({ created: 1 });
    const uploads = media.uploadsOf(w.corp.corpId);
    expect(uploads).toHaveLength(1);
    expect(uploads[0].via).toBe('attachment');
    const [moment] = desk.moments.filter((m) => m.corpId === w.corp.corpId);
    expect(moment.attachments).toEqual([
      { msgtype: 'image', image: { media_id: uploads[0].mediaId } }, { msgtype: 'image', image: { media_id: uploads[0].mediaId } }]);

    // a link: posted with its library cover uploaded for Moments, through the post's tracked link
    files.set('/img/cover.png', Buffer.concat([PNG.subarray(0, 8), randomBytes(512)]));
    const res = await w.t.admin.post('/api/materials', { kind: 'article', title: '新品上架，快来看看这一季的全部新款吧！', url: 'https://shop.example/new', coverUrl: `${imageBase}/img/cover.png` });
    expect(res.status).toBe(201);
    await w.sop('Moments link', w.picks(res.body.id), { channel: 'moments', content: { template: '新品', materials: w.picks(res.body.id) } });
    expect(await sweep(w.tenantId, new Date(Date.now() + MIN))).toMatchObject({ created: 1 });
    const cover = media.uploadsOf(w.corp.corpId)[1];
    expect(cover).toMatchObject({ via: 'attachment', bytes: 520 });
    const linkPost = desk.moments.filter((m) => m.corpId === w.corp.corpId)[1];
    expect(linkPost.attachments).toEqual([{ msgtype: 'link', link: {
      title: expect.any(String), media_id: cover.mediaId, url: expect.stringMatching(/\/r\/w\d+-0-[A-Za-z0-9_-]{22}$/) } }]);
    expect(Buffer.byteLength((linkPost.attachments[0].link as { title: string }).title)).toBeLessThanOrEqual(64);
  });

  it('posts a Moments task whose image upload was rate-limited first: never marked attempted, so sent, not given up', async () => {
    files.set('/img/later.png', Buffer.concat([PNG.subarray(0, 8), randomBytes(1024)]));
    const w = await world('Media moments retried');
    const alice = await w.member('zhangsan');
    await w.contact('a1', alice.id);
    const image = await w.material('image', '朋友圈图', `${imageBase}/img/later.png`);
    await w.sop('Moments later', w.picks(image), { channel: 'moments' });
    // past the client's own retries: the activity fails before add_moment_task is called, and Temporal retries it
    local().failNext('/cgi-bin/media/upload_attachment', 45009, 4);
    await sweep(w.tenantId, new Date());
    expect(await ctx.stack.db.query(`SELECT status, error FROM wecom_mass_sends WHERE tenant_id = $1`, [w.tenantId]))
      .toEqual([{ status: 'waiting', error: null }]);
    const posted = desk.moments.filter((m) => m.corpId === w.corp.corpId);
    expect(posted).toHaveLength(1);
    expect(posted[0].attachments).toEqual([{ msgtype: 'image', image: { media_id: media.uploadsOf(w.corp.corpId)[0].mediaId } }]);
  });

  it('the local WeCom refuses uploads as WeCom does: a wrong type, too large, not multipart', async () => {
    const corp = local().add(newCorp());
    const token = ((await (await fetch(`${local().baseUrl}/cgi-bin/gettoken?corpid=${corp.corpId}&corpsecret=${encodeURIComponent(corp.contactSecret)}`)).json()) as { access_token: string }).access_token;
    const upload = async (bytes: Buffer, query = 'type=image', path = 'upload') => {
      const form = new FormData();
      form.append('media', new Blob([new Uint8Array(bytes)], { type: 'image/png' }), 'a.png');
      return (await fetch(`${local().baseUrl}/cgi-bin/media/${path}?access_token=${token}&${query}`, { method: 'POST', body: form })).json();
    };
    expect(await upload(PNG)).toMatchObject({ errcode: 0, type: 'image', media_id: expect.any(String), created_at: expect.any(String) });
    expect(await upload(Buffer.from('GIF89a....'))).toMatchObject({ errcode: 40005 });
    expect(await upload(Buffer.concat([PNG.subarray(0, 8), Buffer.alloc(10 * 1024 * 1024)]))).toMatchObject({ errcode: 40009 });
    expect(await upload(PNG, 'type=voice')).toMatchObject({ errcode: 40004 });
    expect(await upload(PNG, 'media_type=image&attachment_type=2', 'upload_attachment')).toMatchObject({ errcode: 40058 });
    const json = await (await fetch(`${local().baseUrl}/cgi-bin/media/upload?access_token=${token}&type=image`, { method: 'POST', body: '{}' })).json();
    expect(json).toMatchObject({ errcode: 40058 });
  });
});
