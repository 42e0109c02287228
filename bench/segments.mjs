// Segment engine benchmark (issue 3): 1,000,000 contacts, 60 tags in 8 groups (~5 per contact),
// 50 saved segments. Measures preview through the real HTTP API, incremental re-evaluation of one
// contact against the 50 segments, the streamed CSV export of every contact (time and the API
// process's peak RSS), and the CSV import over HTTP against two floors measured in the same run: a
// raw COPY of the file into a bare table, and a COPY of the same rows into a copy of contacts with
// its indexes.
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(fileURLToPath(import.meta.url), '../..');
const require = createRequire(import.meta.url);
const { DataSource } = require('typeorm');
const { dataSourceOptions } = require(join(ROOT, 'libs/db/dist'));
const { evaluateMemberships } = require(join(ROOT, 'libs/engine/dist'));
const { compileRule, SqlParams, validateRule } = require(join(ROOT, 'libs/domain/dist'));
const { writeFileSync } = require('node:fs');
const pg = require('pg');
const { from: copyFrom } = require('pg-copy-streams');
const { pipeline } = require('node:stream/promises');
const { dbSizeMb, p95, startApiWithTenant, timed } = await import(join(ROOT, 'bench/lib.mjs'));

export const CONTACTS = Number(process.env.BENCH_CONTACTS ?? 1_000_000);
const IMPORT_ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? CONTACTS);
export const GROUPS = [
  ['Gender 性别', true, ['Female', 'Male']],
  ['Region 地区', true, ['Shanghai', 'Beijing', 'Guangzhou', 'Shenzhen', 'Hangzhou', 'Chengdu', 'Wuhan', 'Nanjing', 'Suzhou', 'Xian', 'Tianjin', 'Other']],
  ['Age band 年龄段', true, ['18-24', '25-34', '35-44', '45-54', '55-64', '65+']],
  ['Spending level 消费水平', true, ['S1', 'S2', 'S3', 'S4', 'S5']],
  ['Source channel 来源渠道', false, ['Ad', 'Promo', 'Event A', 'Event B', 'Referral', 'Douyin', 'Xiaohongshu', 'WeChat', 'Store', 'Web', 'Partner', 'Other']],
  ['Product interest 产品兴趣', false, ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H']],
  ['Purchase intent 购买意向', true, ['Low', 'Mid', 'High']],
  ['Lifecycle 生命周期', true, ['Lapsed', 'Unpaid', 'Paid', 'Repurchased', 'Loyal', 'Trial', 'Churn risk', 'Won back', 'New', 'Dormant', 'VIP', 'Prospect']],
];

const round = (x) => Math.round(x * 10) / 10;

export async function seed(db, tenantId, log) {
  const tagIds = {};
  for (const [name, exclusive, tags] of GROUPS) {
    const [{ id: groupId }] = await db.query(`INSERT INTO tag_groups (tenant_id, name, exclusive) VALUES ($1, $2, $3) RETURNING id`, [tenantId, name, exclusive]);
    tagIds[name] = [];
    for (const tag of tags) {
      const [row] = await db.query(`INSERT INTO tags (tenant_id, group_id, name, kind) VALUES ($1, $2, $3, 'manual') RETURNING id, num`, [tenantId, groupId, tag]);
      tagIds[name].push(row);
    }
  }
  const nums = (g) => `ARRAY[${tagIds[g].map((t) => t.num).join(',')}]`;
  const owners = (await db.query(
    `INSERT INTO users (tenant_id, email, name, role, password_hash)
     SELECT $1, 'bench-emp-' || g || '-' || $2 || '@bench.example', 'Employee ' || g, 'employee', 'x' FROM generate_series(1, 20) g RETURNING id`,
    [tenantId, randomBytes(4).toString('hex')],
  )).map((r) => r.id);
  const [tSeed] = await timed(() => db.query(
    `INSERT INTO contacts (tenant_id, external_id, name, owner_id, attributes, order_count, total_spend, spend_30d,
                           last_order_at, last_contacted_at, last_responded_at, tag_nums)
     SELECT $1, 'ext-' || g, 'Contact ' || g, ($2::uuid[])[1 + g % 20],
            jsonb_build_object('gender', (ARRAY['female','male'])[1 + g % 2], 'ageBand', (ARRAY['18-24','25-34','35-44','45-54','55-64','65+'])[1 + g % 6],
                               'city', 'City ' || (g % 300), 'member', g % 3 = 0),
            o, o * (50 + random() * 400), CASE WHEN random() < 0.3 THEN round((random() * 800)::numeric, 2) ELSE 0 END,
            CASE WHEN o > 0 THEN now() - random() * interval '365 days' END,
            CASE WHEN random() < 0.1 THEN NULL ELSE now() - random() * interval '60 days' END,
            CASE WHEN random() < 0.4 THEN NULL ELSE now() - random() * interval '90 days' END,
            (SELECT array_agg(x ORDER BY x) FROM unnest(ARRAY[
               (${nums('Gender 性别')})[1 + g % 2],
               (${nums('Region 地区')})[1 + (g / 7) % 12],
               (${nums('Age band 年龄段')})[1 + g % 6],
               (${nums('Product interest 产品兴趣')})[1 + (g / 3) % 8],
               (${nums('Purchase intent 购买意向')})[CASE WHEN r < 0.15 THEN 3 WHEN r < 0.5 THEN 2 ELSE 1 END],
               CASE WHEN g % 10 < 3 THEN (${nums('Source channel 来源渠道')})[1 + (g / 11) % 12] END]) x WHERE x IS NOT NULL)
       FROM (SELECT g, random() AS r, (random() * random() * 12)::int AS o FROM generate_series(1, $3::int) g) s`,
    [tenantId, owners, CONTACTS],
  ));
  const [tTags] = await timed(() => db.query(
    `INSERT INTO contact_tags (tenant_id, contact_id, tag_id, tag_num)
     SELECT c.tenant_id, c.id, t.id, t.num FROM contacts c CROSS JOIN unnest(c.tag_nums) n JOIN tags t ON t.num = n WHERE c.tenant_id = $1`,
    [tenantId],
  ));
  await db.query('ANALYZE');
  const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM contact_tags WHERE tenant_id = $1`, [tenantId]);
  log(`Seeded ${CONTACTS} contacts in ${round(tSeed / 1000)} s and ${n} contact tags in ${round(tTags / 1000)} s`);
  return tagIds;
}

/** 50 segments of the shapes operations teams save: tags, silence, metrics, attributes, any / not. */
function segmentRules(tagIds) {
  const tag = (g, i) => tagIds[g][i].id;
  const rules = [];
  for (let i = 0; i < 50; i++) {
    const parts = [
      { tag: tag('Purchase intent 购买意向', i % 3) },
      { tag: tag('Product interest 产品兴趣', i % 8) },
      [{ daysSince: { field: 'lastContacted', op: 'gte', days: [7, 14, 30][i % 3] } }],
      [{ metric: { name: 'spend30d', op: 'gte', value: 100 * (i % 5) } }],
      [{ not: { tag: tag('Lifecycle 生命周期', i % 12) } }],
      [{ attribute: { key: 'ageBand', op: 'in', value: ['25-34', '35-44'] } }],
      [{ any: [{ tag: tag('Region 地区', i % 12) }, { tag: tag('Region 地区', (i + 1) % 12) }] }],
    ];
    rules.push({ all: [parts[0], parts[1], ...parts.slice(2, 2 + (i % 5) + 1).flat()] });
  }
  return rules;
}

/** A realistic contacts CSV: ids, names, owners, tags from several groups, metrics, dates, attributes. */
async function writeCsv(file, rows, ownerEmail) {
  const out = createWriteStream(file);
  out.write('external_id,name,owner_email,tags,order_count,total_spend,last_contacted_at,attr.region,attr.ageBand\n');
  const intents = ['Low', 'Mid', 'High'];
  for (let i = 0; i < rows; i++) {
    const line = `imp-${i},Imported ${i},${i % 4 ? ownerEmail : ''},Purchase intent 购买意向:${intents[i % 3]}|${'ABCDEFGH'[i % 8]},` +
      `${i % 7},${(i % 997) * 3.5},2026-${String(1 + (i % 11)).padStart(2, '0')}-0${1 + (i % 9)}T08:00:00Z,City ${i % 50},${['25-34', '35-44'][i % 2]}\n`;
    if (!out.write(line)) await new Promise((r) => out.once('drain', r));
  }
  out.end();
  await finished(out);
}

/** The floor for loading the same file: COPY into a bare table with the same columns and no indexes. */
async function rawCopy(db, file) {
  await db.query(`CREATE TABLE bench_copy (external_id text, name text, owner_email text, tags text, order_count int,
    total_spend numeric, last_contacted_at timestamptz, region text, age_band text)`);
  await db.query('CHECKPOINT');
  const [ms] = await timed(() => db.query(`COPY bench_copy FROM '${file}' WITH (FORMAT csv, HEADER true)`));
  return ms; // bench_copy is kept for indexedCopy, which drops it
}

/**
 * The same raw COPY, but with the file's bytes sent by a client (COPY FROM STDIN), as the import
 * receives them, rather than read by the server from its own disk: shows what the baseline's
 * shortcut is worth.
 */
async function rawCopyFromClient(databaseUrl, file) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`CREATE TABLE bench_copy_stdin (external_id text, name text, owner_email text, tags text, order_count int,
      total_spend numeric, last_contacted_at timestamptz, region text, age_band text)`);
    await client.query('CHECKPOINT');
    const [ms] = await timed(() => pipeline(createReadStream(file), client.query(copyFrom(`COPY bench_copy_stdin FROM STDIN WITH (FORMAT csv, HEADER true)`))));
    await client.query('DROP TABLE bench_copy_stdin');
    return ms;
  } finally {
    await client.end();
  }
}

/**
 * A second floor: COPY of the same rows, already in contacts' shape (owner id, tag numbers,
 * attributes as jsonb), into a copy of contacts that holds the same rows as contacts and carries the
 * same indexes and checks. Every contact the import adds must pay for those indexes, which the
 * previews need; this is what that costs without any of the import's own work.
 */
async function indexedCopy(db, tenantId, file) {
  const shaped = `${file}.contacts.tsv`;
  await db.query(
    `COPY (
       WITH names AS (
         SELECT lower(g.name || ':' || t.name) AS name, t.num FROM tags t JOIN tag_groups g ON g.id = t.group_id WHERE t.tenant_id = '${tenantId}'
         UNION ALL
         SELECT lower(min(t.name)), min(t.num) FROM tags t WHERE t.tenant_id = '${tenantId}' GROUP BY lower(t.name) HAVING count(*) = 1
       )
       SELECT gen_random_uuid(), '${tenantId}'::uuid, b.external_id, b.name, NULL, NULL, u.id, 'Asia/Shanghai',
              jsonb_build_object('region', b.region, 'ageBand', b.age_band), b.order_count, b.total_spend, 0, NULL,
              b.last_contacted_at, NULL,
              ARRAY(SELECT n.num FROM unnest(string_to_array(b.tags, '|')) x JOIN names n ON n.name = lower(x) ORDER BY n.num),
              now(), now()
         FROM bench_copy b LEFT JOIN users u ON u.tenant_id = '${tenantId}' AND u.email = b.owner_email
     ) TO '${shaped}'`,
  );
  await db.query('DROP TABLE bench_copy');
  await db.query(`CREATE TABLE bench_contacts_copy (LIKE contacts INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
  await db.query(`INSERT INTO bench_contacts_copy SELECT * FROM contacts`);
  const indexes = await db.query(`SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'contacts'`);
  for (const { indexdef } of indexes) {
    await db.query(indexdef.replace(/INDEX (\S+) ON public\.contacts /, 'INDEX $1_bench ON public.bench_contacts_copy '));
  }
  await db.query('VACUUM ANALYZE bench_contacts_copy');
  await db.query('CHECKPOINT');
  // The columns named: contacts has more since (e.g. wecom_external_user_id), which the import leaves empty too.
  const [ms] = await timed(() => db.query(`COPY bench_contacts_copy (id, tenant_id, external_id, name, phone, email, owner_id, timezone, attributes,
    order_count, total_spend, spend_30d, last_order_at, last_contacted_at, last_responded_at, tag_nums, created_at, updated_at) FROM '${shaped}'`));
  const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM bench_contacts_copy WHERE external_id LIKE 'imp-%'`);
  await db.query('DROP TABLE bench_contacts_copy');
  rmSync(shaped, { force: true });
  await db.query('CHECKPOINT');
  return [ms, indexes.length, n];
}

async function importViaApi(base, headers, file) {
  const [ms, body] = await timed(async () => {
    const res = await fetch(`${base}/api/imports/contacts`, {
      method: 'POST', headers: { authorization: headers.authorization, 'content-type': 'text/csv' },
      body: Readable.toWeb(createReadStream(file)), duplex: 'half',
    });
    return res.json();
  });
  return [ms, body];
}

/** 30 timed previews of each rule (after 5 untimed), with the distinct answers. */
async function timePreviews(base, auth, rules, log) {
  const previews = {};
  for (const [name, rule] of Object.entries(rules)) {
    const times = [];
    const answers = [];
    for (let i = 0; i < 35; i++) {
      const [ms, res] = await timed(() => fetch(`${base}/api/segments/preview`, { method: 'POST', headers: auth, body: JSON.stringify({ rule }) }).then((r) => r.json()));
      if (i >= 5) {
        times.push(ms);
        answers.push(res);
      }
    }
    const last = answers[answers.length - 1];
    const estimated = answers.filter((a) => a.estimated).length;
    // the distinct answers (an exact count past its budget on one run may be estimated on the next)
    const distinct = [...new Map(answers.map((a) => [`${a.count}:${a.estimated}:${a.margin}`, a])).values()];
    previews[name] = { p95: round(p95(times)), count: last.count, estimated, margin: last.margin, answers: distinct };
    log(`preview ${name}: p95 ${previews[name].p95} ms over 30 runs, ${last.count} contacts` +
      (estimated ? ` (${estimated} of 30 estimated, last ± ${last.margin})` : ' (exact)'));
  }
  return previews;
}

/** A rule's exact count, straight from Postgres (not timed). */
async function exactCount(db, tenantId, input) {
  const tagNums = new Map((await db.query(`SELECT id, num FROM tags WHERE tenant_id = $1`, [tenantId])).map((r) => [r.id, r.num]));
  const params = new SqlParams(2);
  const where = compileRule(validateRule(input, { tagNums }), { tagNums, now: new Date(), params });
  const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM contacts c WHERE c.tenant_id = $1 AND (${where})`, [tenantId, ...params.values]);
  return n;
}

/** EXPLAIN ANALYZE of the preview counts, kept in .data for docs/segments.md. */
async function explainPlans(db, tenantId, rules, log) {
  const tagNums = new Map((await db.query(`SELECT id, num FROM tags WHERE tenant_id = $1`, [tenantId])).map((r) => [r.id, r.num]));
  const out = [];
  const costs = {};
  for (const [name, input] of Object.entries(rules)) {
    const params = new SqlParams(2);
    const where = compileRule(validateRule(input, { tagNums }), { tagNums, now: new Date(), params });
    const sql = `SELECT count(*) FROM contacts c WHERE c.tenant_id = $1 AND (${where})`;
    // the planned cost the API's budget (SEGMENT_COST_BUDGET) is held against
    const [planned] = await db.query(`EXPLAIN (FORMAT JSON) ${sql}`, [tenantId, ...params.values]);
    costs[name] = Math.round(planned['QUERY PLAN'][0].Plan['Total Cost']);
    const plan = await db.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, [tenantId, ...params.values]);
    out.push(`-- ${name}\n${sql}\n\n${plan.map((r) => r['QUERY PLAN']).join('\n')}\n`);
  }
  // The read half of incremental re-evaluation: one contact against every saved segment.
  const segments = await db.query(`SELECT rule FROM segments WHERE tenant_id = $1 ORDER BY id`, [tenantId]);
  const params = new SqlParams(3);
  const columns = segments.map((s) => `(${compileRule(s.rule, { tagNums, now: new Date(), params })})`);
  const [{ id }] = await db.query(`SELECT id FROM contacts WHERE tenant_id = $1 LIMIT 1`, [tenantId]);
  const plan = await db.query(
    `EXPLAIN (ANALYZE, SUMMARY) SELECT ARRAY[${columns.join(', ')}] FROM contacts c WHERE c.tenant_id = $1 AND c.id = $2`,
    [tenantId, id, ...params.values],
  );
  out.push(`-- evaluation of one contact against ${segments.length} segments\n${plan.map((r) => r['QUERY PLAN']).slice(-3).join('\n')}\n`);
  const file = join(ROOT, '.data/bench-segments-plans.txt');
  writeFileSync(file, out.join('\n'));
  log(`query plans written to .data/bench-segments-plans.txt; planned costs ${JSON.stringify(costs)}`);
  return costs;
}

const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const peakRssMb = (pid) => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;

/** The streamed export of every contact and the CSV import over HTTP against its two COPY floors. */
async function exportAndImport({ db, api, base, auth, databaseUrl, tenantId }, log) {
  const [{ id: everyone }] = await db.query(
    `INSERT INTO segments (tenant_id, name, rule) VALUES ($1, 'Everyone', '{"metric":{"name":"orderCount","op":"gte","value":0}}') RETURNING id`,
    [tenantId],
  );
  const [exportMs, lines] = await timed(async () => {
    const res = await fetch(`${base}/api/segments/${everyone}/export.csv`, { headers: auth });
    let n = 0;
    for await (const chunk of res.body) for (const b of chunk) if (b === 10) n++;
    return n;
  });
  const exportRss = peakRssMb(api.pid);
  log(`export: ${lines - 1} rows in ${round(exportMs / 1000)} s, API peak RSS ${round(exportRss)} MB`);

  const ownerEmail = (await db.query(`SELECT email FROM users WHERE tenant_id = $1 AND role = 'employee' LIMIT 1`, [tenantId]))[0].email;
  const file = join(tmpdir(), `sop-bench-import-${process.pid}.csv`);
  await writeCsv(file, IMPORT_ROWS, ownerEmail);
  const copyMs = await rawCopy(db, file);
  const copyStdinMs = await rawCopyFromClient(databaseUrl, file);
  const [indexedMs, indexCount, indexedRows] = await indexedCopy(db, tenantId, file);
  // The API's resident memory while it imports (sampled), to show it stays flat whatever the file size.
  const timeline = []; // the highest RSS of each 10 s: flat, or growing with the rows read so far?
  const importStart = Date.now();
  const sampler = setInterval(() => {
    const mb = rssMb(api.pid);
    const slot = Math.floor((Date.now() - importStart) / 10_000);
    timeline[slot] = Math.max(timeline[slot] ?? 0, mb);
  }, 250);
  const [importMs, imported] = await importViaApi(base, auth, file).finally(() => clearInterval(sampler));
  rmSync(file, { force: true });
  const importRss = Math.max(0, ...timeline.filter(Boolean));
  log(`import: ${imported.importedRows} of ${IMPORT_ROWS} rows in ${round(importMs / 1000)} s; raw COPY of the same file ${round(copyMs / 1000)} s (${round(copyStdinMs / 1000)} s sent by a client); ` +
    `COPY of the same ${indexedRows} rows into a copy of contacts with its ${indexCount} indexes ${round(indexedMs / 1000)} s; ` +
    `API RSS during the import at most ${round(importRss)} MB; highest per 10 s: ${timeline.map(Math.round).join(', ')} MB`);

  const f = {
    import_rows: IMPORT_ROWS, import_rows_per_s: Math.round(IMPORT_ROWS / (importMs / 1000)), import_vs_copy_ratio: round(importMs / copyMs),
    import_vs_indexed_copy_ratio: round(importMs / indexedMs),
    copy_s: round(copyMs / 1000), copy_from_client_s: round(copyStdinMs / 1000), indexed_copy_s: round(indexedMs / 1000), import_s: round(importMs / 1000), import_api_rss_max_mb: round(importRss),
    import_api_rss_per_10s_mb: timeline.map(Math.round),
    export_s: round(exportMs / 1000), export_rows: lines - 1, export_peak_rss_mb: round(exportRss),
  };
  const missed = [];
  if (f.export_s > 20) missed.push(`export ${f.export_s} s > 20`);
  if (f.export_peak_rss_mb > 300) missed.push(`export peak RSS ${f.export_peak_rss_mb} MB > 300`);
  if (lines - 1 !== CONTACTS) missed.push(`export wrote ${lines - 1} rows, expected ${CONTACTS}`);
  if (imported.importedRows !== IMPORT_ROWS) missed.push(`import kept ${imported.importedRows} of ${IMPORT_ROWS} rows (${imported.errorRows} errors)`);
  // Held to 3x a COPY of the same rows into contacts as it is (its indexes are what make previews fast),
  // not into a bare table, which no import keeping contacts indexed, tagged and in segments can meet:
  // docs/segments.md, "The import target". import_vs_copy_ratio (bare table) stays reported.
  if (f.import_vs_indexed_copy_ratio > 3) missed.push(`import ${f.import_vs_indexed_copy_ratio}x the indexed COPY > 3x`);
  return { figures: f, missed };
}

export async function run({ databaseUrl, log }) {
  const db = await new DataSource(dataSourceOptions(databaseUrl, { extra: { max: 4 } })).initialize();
  const { api, base, token } = await startApiWithTenant(databaseUrl);
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  try {
    const me = await (await fetch(`${base}/api/auth/me`, { headers: auth })).json();
    const tagIds = await seed(db, me.tenantId, log);

    const rules = segmentRules(tagIds);
    await db.query(
      `INSERT INTO segments (tenant_id, name, rule, tag_ids) SELECT $1, 'Bench segment ' || i, r, '{}' FROM unnest($2::jsonb[]) WITH ORDINALITY AS x(r, i)`,
      [me.tenantId, rules.map((r) => JSON.stringify(r))],
    );

    const classic = { all: [{ tag: tagIds['Purchase intent 购买意向'][2].id }, { tag: tagIds['Product interest 产品兴趣'][1].id }, { daysSince: { field: 'lastContacted', op: 'gte', days: 14 } }] };
    const sixPredicates = {
      all: [
        { any: [{ tag: tagIds['Region 地区'][0].id }, { tag: tagIds['Region 地区'][1].id }] },
        { not: { tag: tagIds['Lifecycle 生命周期'][0].id } },
        { tags: { any: [tagIds['Product interest 产品兴趣'][0].id, tagIds['Product interest 产品兴趣'][2].id] } },
        { attribute: { key: 'ageBand', op: 'in', value: ['25-34', '35-44'] } },
        { metric: { name: 'spend30d', op: 'gte', value: 100 } },
        { daysSince: { field: 'lastResponded', op: 'lt', days: 30 } },
      ],
    };
    // Each preview's answer is kept: whether it was estimated (issue 14: a sample past SEGMENT_EXACT_COUNT_MS or
    // SEGMENT_EXACT_COUNT_COST) and with what margin; the exact count to judge it by is taken after the timed runs.
    const previews = await timePreviews(base, auth, { classic, sixPredicates }, log);
    // outside the timed part: the exact counts the estimates are judged by
    for (const [name, rule] of Object.entries({ classic, sixPredicates })) {
      previews[name].exact = await exactCount(db, me.tenantId, rule);
      const p = previews[name];
      p.errorPct = round((100 * (p.count - p.exact)) / Math.max(p.exact, 1));
      p.withinMargin = p.answers.every((a) => Math.abs(a.count - p.exact) <= (a.estimated ? a.margin : 0));
      const said = p.answers.map((a) => (a.estimated ? `about ${a.count} ± ${a.margin}` : `${a.count}`)).join(', ');
      log(`preview ${name}: exact count ${p.exact}; answered ${said}, error ${p.errorPct} %, ${p.withinMargin ? 'within' : 'OUTSIDE'} its margin`);
    }

    // BENCH_PREVIEW_VARIANTS="SEGMENT_SAMPLE_ROWS=50000;SEGMENT_EXACT_COUNT_MS=50": the same previews through a second
    // API with those settings (one at a time, same data), to choose the defaults; reported, never held to a target.
    const variants = {};
    for (const variant of (process.env.BENCH_PREVIEW_VARIANTS ?? '').split(';').filter(Boolean)) {
      const env = Object.fromEntries(variant.split(',').map((kv) => kv.split('=')));
      const other = await startApiWithTenant(databaseUrl, env);
      try {
        const login = await (await fetch(`${other.base}/api/auth/login`, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: me.email, password: 'bench-password' }),
        })).json();
        const otherAuth = { authorization: `Bearer ${login.accessToken}`, 'content-type': 'application/json' };
        const answers = await timePreviews(other.base, otherAuth, { classic, sixPredicates }, (line) => log(`[${variant}] ${line}`));
        variants[variant] = Object.fromEntries(Object.entries(answers).map(([name, p]) => [name, {
          p95_ms: p.p95, estimated_runs: p.estimated, answers: p.answers.map(({ count, estimated, margin }) => ({ count, estimated, margin })),
          error_pct: round((100 * (p.count - previews[name].exact)) / Math.max(previews[name].exact, 1)),
        }]));
      } finally {
        other.api.kill('SIGTERM');
      }
    }

    const costs = await explainPlans(db, me.tenantId, { classic, sixPredicates }, log);
    // Issue 15: 100 contains predicates, what an attacker sent; the cost budget or the statement timeout refuses it
    const containsRule = { all: Array.from({ length: 100 }, (_, i) => ({ attribute: { key: 'ageBand', op: 'contains', value: `x${i}` } })) };
    const [containsMs, containsRes] = await timed(() => fetch(`${base}/api/segments/preview`, { method: 'POST', headers: auth, body: JSON.stringify({ rule: containsRule }) })
      .then(async (r) => ({ status: r.status, body: await r.json() })));
    log(`preview of 100 contains predicates: ${containsRes.status} ${containsRes.body.code ?? ''} in ${round(containsMs)} ms`);

    const sample = (await db.query(`SELECT id FROM contacts WHERE tenant_id = $1 ORDER BY random() LIMIT 220`, [me.tenantId])).map((r) => r.id);
    // A real change on contacts whose memberships exist: swap the purchase-intent tag, then time the
    // re-evaluation (which enters and exits the segments the swap affects).
    const intents = tagIds['Purchase intent 购买意向'];
    const incremental = [];
    for (const [i, id] of sample.entries()) {
      await evaluateMemberships(db, me.tenantId, [id]);
      // As in the product (TagWriter), evaluation runs inside the transaction that made the change and
      // shares its one commit, so the commit is not part of the timed evaluation.
      const ms = await db.transaction(async (m) => {
        await m.query(`UPDATE contact_tags SET tag_id = $3, tag_num = $4 WHERE contact_id = $1 AND tag_num = ANY($2::int[])`, [
          id, intents.map((t) => t.num), intents[i % 3].id, intents[i % 3].num,
        ]);
        await m.query(`UPDATE contacts SET tag_nums = (SELECT array_agg(tag_num ORDER BY tag_num) FROM contact_tags WHERE contact_id = $1) WHERE id = $1`, [id]);
        return (await timed(() => evaluateMemberships(m, me.tenantId, [id])))[0];
      });
      if (i >= 20) incremental.push(ms);
    }
    log(`incremental re-evaluation after a tag change (in its transaction), 1 contact x 50 segments: p95 ${round(p95(incremental))} ms over 200 contacts`);

    // Before the export and import (which adds IMPORT_ROWS contacts): the seeded contacts, their tags, the segments.
    const seededDbMb = await dbSizeMb(db);
    // BENCH_EXPORT_IMPORT=0 leaves out the export and the import (the sizes where they would take most of the
    // run, e.g. 10,000,000 contacts; issue 14's curve needs the previews, the re-evaluation and the size).
    const io = process.env.BENCH_EXPORT_IMPORT === '0' ? { figures: {}, missed: [] } : await exportAndImport({ db, api, base, auth, databaseUrl, tenantId: me.tenantId }, log);

    const worse = previews.classic.p95 >= previews.sixPredicates.p95 ? 'classic' : 'sixPredicates';
    const figures = {
      bench: 'segments', contacts: CONTACTS, pg_shared_buffers: (await db.query('SHOW shared_buffers'))[0].shared_buffers,
      preview_p95_ms: previews[worse].p95, preview_rule: worse === 'classic' ? 'high intent AND product B AND silent >= 14 days' : '6 predicates with any and not',
      preview_classic_p95_ms: previews.classic.p95, preview_six_p95_ms: previews.sixPredicates.p95,
      preview_classic_cost: costs.classic, preview_six_cost: costs.sixPredicates,
      preview_classic_estimated_runs: previews.classic.estimated, preview_six_estimated_runs: previews.sixPredicates.estimated,
      preview_classic_count: previews.classic.count, preview_classic_exact: previews.classic.exact, preview_classic_margin: previews.classic.margin,
      preview_classic_error_pct: previews.classic.errorPct,
      preview_six_count: previews.sixPredicates.count, preview_six_exact: previews.sixPredicates.exact, preview_six_margin: previews.sixPredicates.margin,
      preview_six_error_pct: previews.sixPredicates.errorPct,
      ...(Object.keys(variants).length ? { preview_variants: variants } : {}),
      preview_100_contains_status: containsRes.status, preview_100_contains_ms: round(containsMs),
      incremental_p95_ms: round(p95(incremental)),
      ...io.figures,
      db_size_seeded_mb: seededDbMb, db_size_mb: await dbSizeMb(db),
    };
    const missed = [];
    // issue 3's target at 1,000,000 contacts, issue 14's at 10,000,000
    const previewTarget = CONTACTS >= 10_000_000 ? 200 : 100;
    if (figures.preview_p95_ms > previewTarget) missed.push(`preview p95 ${figures.preview_p95_ms} ms > ${previewTarget}`);
    for (const [name, p] of Object.entries(previews)) {
      if (!p.withinMargin) missed.push(`preview ${name}: an answer outside its margin (exact ${p.exact}): ${JSON.stringify(p.answers.map(({ count, estimated, margin }) => ({ count, estimated, margin })))}`);
    }
    if (figures.incremental_p95_ms > 10) missed.push(`incremental p95 ${figures.incremental_p95_ms} ms > 10`);
    missed.push(...io.missed);
    return { figures, missed };
  } finally {
    api.kill('SIGTERM');
    await db.destroy();
  }
}
