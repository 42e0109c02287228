// Console benchmark (issue 11), in a real Chromium against the built console served by the API (its
// own process) on a fresh database:
// - JavaScript loaded before the first screen is usable, gzipped (the sizes of the .gz files the build
//   wrote), for the sign-in page (its form on screen) and the inbox (its first tasks on screen);
// - the inbox of an employee with 2,000 tasks due today: from navigation to the first 50 tasks on screen
//   (the page's `inbox:first-tasks` performance mark), each visit in a fresh browser context (cold cache);
// - the segment builder on a 1,000,000-contact tenant (BENCH_CONTACTS): from the last edit of a rule to
//   its count on screen (the page's `segment:count` mark), p95.
/* global localStorage, performance -- functions passed to page.evaluate run in the browser */
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(fileURLToPath(import.meta.url), '../..');
const require = createRequire(import.meta.url);
const { DataSource } = require('typeorm');
const { chromium } = require('playwright-core');
const { dataSourceOptions } = require(join(ROOT, 'libs/db/dist'));
const { freePort } = await import(join(ROOT, 'tools/lib/proc.mjs'));
const { ensureChromium } = await import(join(ROOT, 'tools/lib/infra.mjs'));
const { p95, startApi, waitFor } = await import(join(ROOT, 'bench/lib.mjs'));
const { seed: seedContacts, CONTACTS, GROUPS } = await import(join(ROOT, 'bench/segments.mjs'));
const GROUP_TAGS = Object.fromEntries(GROUPS.map(([name, , tags]) => [name, tags]));

const INBOX_TASKS = Number(process.env.BENCH_INBOX_TASKS ?? 2000);
const VISITS = Number(process.env.BENCH_VISITS ?? 10);
const EDITS = Number(process.env.BENCH_EDITS ?? 20); // at most 21: each edit picks a tag not picked before
const TARGETS = { inbox_js_gzip_kb: 300, login_js_gzip_kb: 300, inbox_first_50_ms: 1000, segment_count_p95_ms: 500 };
const ASSETS = join(ROOT, 'apps/web/dist/assets');
const PASSWORD = 'bench-password-1';

const round = (x) => Math.round(x * 10) / 10;

async function api(base, token, method, path, body) {
  const res = await fetch(`${base}${path}`, {
    method, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => null);
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** A tenant with an admin, an ops manager and an employee, each able to sign in. */
async function people(base) {
  const suffix = randomBytes(4).toString('hex');
  const admin = await api(base, null, 'POST', '/api/auth/signup', { organization: '控制台基准 Console bench', name: '管理员', email: `admin-${suffix}@bench.example`, password: PASSWORD });
  const me = await api(base, admin.accessToken, 'GET', '/api/auth/me');
  const person = async (role, name) => {
    const email = `${role}-${suffix}@bench.example`;
    const user = await api(base, admin.accessToken, 'POST', '/api/users', { email, name, role, password: PASSWORD });
    const { accessToken } = await api(base, null, 'POST', '/api/auth/login', { email, password: PASSWORD });
    return { id: user.id, token: accessToken };
  };
  return { tenantId: me.tenantId, employee: await person('employee', '王芳'), ops: await person('ops', '运营 李娜') };
}

/** INBOX_TASKS pending tasks due today for the employee, from one (archived) journey, on as many customers. */
async function seedInbox(db, tenantId, employeeId) {
  const [{ id: segmentId }] = await db.query(
    `INSERT INTO segments (tenant_id, name, rule) VALUES ($1, 'Console bench audience', '{"attribute":{"key":"city","op":"exists"}}') RETURNING id`, [tenantId]);
  const definition = {
    kind: 'journey', timezone: 'Asia/Shanghai', audience: { segmentId }, entry: { includeExistingMembers: false, reentry: 'never' },
    steps: [{ name: 'Day 0', offsetDays: 0, window: { start: '09:00', end: '21:00' }, channel: 'wecom_chat',
      content: { template: '您好，新品到店，送您一张券。', materials: [] }, executor: { rule: 'contactOwner' }, reminder: { mandatory: false } }],
    policies: { businessDaysOnly: false, priority: 50, overflow: 'defer', exitOn: [], onFinish: { addTagIds: [], removeTagIds: [] } },
  };
  const [{ id: sopId }] = await db.query(
    `INSERT INTO sops (tenant_id, name, kind, status, definition, current_version, segment_ids)
     VALUES ($1, '新品到店提醒', 'journey', 'archived', $2, 1, $3) RETURNING id`, [tenantId, definition, [segmentId]]);
  const [{ id: versionId }] = await db.query(
    `INSERT INTO sop_versions (tenant_id, sop_id, version, definition, segment_ids) VALUES ($1, $2, 1, $3, $4) RETURNING id`,
    [tenantId, sopId, definition, [segmentId]]);
  await db.query(
    `WITH c AS (
       INSERT INTO contacts (tenant_id, external_id, name, owner_id)
       SELECT $1, 'inbox-' || g, '客户 ' || g, $2 FROM generate_series(1, $3::int) g RETURNING id, external_id)
     INSERT INTO tasks (tenant_id, sop_id, sop_version_id, step_index, enrollment_id, contact_id, executor_id, channel, content, due_at, due_until, status)
     SELECT $1, $4, $5, 0, -row_number() OVER (), c.id, $2, 'wecom_chat', '您好，新品到店，送您一张券。',
            now() - interval '1 hour' + (row_number() OVER ()) * interval '1 second', now() + interval '6 hours', 'pending'
       FROM c`,
    [tenantId, employeeId, INBOX_TASKS, sopId, versionId]);
  await db.query('ANALYZE tasks');
}

/** Gzipped kilobytes of the scripts a page fetched (the .gz files the build wrote beside them). */
function gzipKb(urls) {
  let bytes = 0;
  for (const url of new Set(urls)) {
    const file = join(ASSETS, new URL(url).pathname.replace(/^\/assets\//, ''));
    if (!existsSync(`${file}.gz`)) throw new Error(`no ${file}.gz: was the console built?`);
    bytes += statSync(`${file}.gz`).size;
  }
  return round(bytes / 1024);
}

/** A fresh browser context (cold cache) that records the scripts it loads; signed in when given a token. */
async function visit(browser, base, token) {
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 800 } });
  if (token) await context.addInitScript((t) => localStorage.setItem('sop.accessToken', t), token);
  const page = await context.newPage();
  const scripts = [];
  page.on('response', (r) => { if (r.request().resourceType() === 'script') scripts.push(r.url()); });
  return { context, page, scripts };
}

/** Milliseconds from navigation start to the page's performance mark `name` (waits for it). */
async function markAfterNavigation(page, name) {
  await page.waitForFunction((n) => performance.getEntriesByName(n).length > 0, name, { timeout: 30_000 });
  return page.evaluate((n) => performance.getEntriesByName(n)[0].startTime, name);
}

async function measureLogin(browser, base) {
  const { context, page, scripts } = await visit(browser, base);
  await page.goto(`${base}/`);
  await page.locator('button[type=submit]').waitFor();
  const kb = gzipKb(scripts);
  await context.close();
  return kb;
}

async function measureInbox(browser, base, token, log) {
  const times = [];
  let kb = 0;
  for (let i = 0; i <= VISITS; i++) {
    const { context, page, scripts } = await visit(browser, base, token);
    await page.goto(`${base}/inbox`);
    const ms = await markAfterNavigation(page, 'inbox:first-tasks');
    const rows = await page.locator('[data-task-id]').count();
    if (rows < 50) throw new Error(`the inbox showed ${rows} tasks, expected at least 50 of ${INBOX_TASKS}`);
    if (i > 0) times.push(ms); // the first visit warms the API's caches and connections
    kb = gzipKb(scripts);
    await context.close();
  }
  log(`inbox: first 50 of ${INBOX_TASKS} tasks after ${times.map(Math.round).join(', ')} ms (${VISITS} cold visits); ${kb} KB of gzipped JavaScript`);
  return { kb, p95: round(p95(times)), median: round([...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]) };
}

/**
 * Opens the segment builder and edits the rule EDITS times (switching a tag predicate between two tags of
 * a group); each time, the figure is from the edit to the fresh count on screen.
 */
async function measureSegmentCount(browser, base, token, tagNames, log) {
  const { context, page } = await visit(browser, base, token);
  await page.goto(`${base}/segments/new`);
  const { editRule } = await import(join(ROOT, 'bench/console-segment-editor.mjs'));
  const times = await editRule(page, tagNames, EDITS + 2);
  await context.close();
  const measured = times.slice(2); // the first two edits warm the API and the page
  log(`segment builder: count on screen ${measured.map(Math.round).join(', ')} ms after the last edit (${CONTACTS.toLocaleString('en')} contacts)`);
  return round(p95(measured));
}

export async function run({ databaseUrl, log }) {
  const executablePath = await ensureChromium();
  if (!executablePath) throw new Error('Chromium is needed for the console bench.');
  const db = await new DataSource(dataSourceOptions(databaseUrl, { extra: { max: 4 } })).initialize();
  const port = await freePort();
  const apiProcess = startApi({ DATABASE_URL: databaseUrl, PORT: String(port), JWT_SECRET: randomBytes(32).toString('hex'), TEMPORAL_ADDRESS: '127.0.0.1:1' });
  const base = `http://127.0.0.1:${port}`;
  const browser = await chromium.launch({
    executablePath, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    await waitFor(`${base}/health`);
    const who = await people(base);
    await seedInbox(db, who.tenantId, who.employee.id);
    const tagIds = await seedContacts(db, who.tenantId, log);
    // Distinct tags for every edit, so each count is a fresh answer from the API (never the page's cache).
    const editTags = ['Region', 'Lifecycle'].flatMap((prefix) => {
      const group = Object.keys(tagIds).find((g) => g.startsWith(prefix));
      return GROUP_TAGS[group].filter((n) => n !== 'Other').map((name) => ({ group, name }));
    });

    const loginKb = await measureLogin(browser, base);
    log(`sign-in page: ${loginKb} KB of gzipped JavaScript`);
    const inbox = await measureInbox(browser, base, who.employee.token, log);
    const segmentP95 = await measureSegmentCount(browser, base, who.ops.token, editTags, log);

    const figures = {
      bench: 'console',
      inbox_js_gzip_kb: inbox.kb,
      login_js_gzip_kb: loginKb,
      inbox_first_50_ms: inbox.p95,
      segment_count_p95_ms: segmentP95,
      inbox_first_50_median_ms: inbox.median,
      inbox_tasks: INBOX_TASKS,
      inbox_visits: VISITS,
      segment_contacts: CONTACTS,
      segment_edits: EDITS,
    };
    const missed = Object.entries(TARGETS).filter(([k, max]) => figures[k] > max).map(([k, max]) => `${k} ${figures[k]} > ${max}`);
    return { figures, missed };
  } finally {
    await browser.close();
    apiProcess.kill('SIGTERM');
    await db.destroy();
  }
}
