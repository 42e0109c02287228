import { ATTRIBUTE_KEY } from '../contacts/contacts.dto';

/** Columns a contacts CSV may have; `attr.<key>` columns fill attributes. external_id is required. */
export const CONTACT_COLUMNS = [
  'external_id', 'name', 'phone', 'email', 'owner_email', 'timezone', 'tags',
  'order_count', 'total_spend', 'spend_30d', 'last_order_at', 'last_contacted_at', 'last_responded_at',
] as const;

export interface RowError {
  row: number;
  column: string;
  reason: string;
}

export interface ImportContext {
  /** lower-cased "group:tag" and, when unambiguous, lower-cased "tag" -> tag number */
  tagNums: Map<string, number>;
  exclusiveGroupOf: Map<number, string | null>;
  ownerIds: Map<string, string>;
  timeZones: Set<string>;
}

export interface ContactRecord {
  external_id: string;
  name?: string;
  phone?: string | null;
  email?: string | null;
  owner_id?: string | null;
  timezone?: string;
  attributes?: Record<string, string | number | boolean>;
  order_count?: number;
  total_spend?: number;
  spend_30d?: number;
  last_order_at?: string | null;
  last_contacted_at?: string | null;
  last_responded_at?: string | null;
  tag_nums: number[];
}

/** Columns a file may have: the contact's own and one per attribute a contact may hold (100), with room to spare. */
export const MAX_COLUMNS = 150;

export function headerProblems(header: string[]): string[] {
  // checked first: a header of 100,000 columns took 18 s to check name by name
  if (header.length > MAX_COLUMNS) return [`the file has ${header.length} columns; at most ${MAX_COLUMNS} are taken`];
  const problems = header
    .filter((h) => !(CONTACT_COLUMNS as readonly string[]).includes(h) && !(h.startsWith('attr.') && ATTRIBUTE_KEY.test(h.slice(5))))
    .map((h) => `unknown column "${h}"`);
  if (!header.includes('external_id')) problems.push('the column external_id is required');
  const seen = new Set<string>();
  const repeated = header.filter((h) => seen.has(h) || !seen.add(h));
  return [...problems, ...repeated.map((h) => `column "${h}" appears twice`)];
}

const NUMBER = /^-?\d+(\.\d+)?$/;

/** Turns one CSV record into a contact, or the reasons it cannot be one (each with its column). */
export function parseContactRow(rec: Record<string, string>, row: number, ctx: ImportContext): ContactRecord | RowError[] {
  const errors: RowError[] = [];
  const fail = (column: string, reason: string) => errors.push({ row, column, reason });
  for (const [column, value] of Object.entries(rec)) {
    if (value.includes('\uFFFD')) fail(column, 'is not valid UTF-8 text');
    else if (value.includes('\u0000')) fail(column, 'contains a NUL character');
  }
  const out: ContactRecord = { external_id: (rec.external_id ?? '').trim(), tag_nums: [] };
  if (!out.external_id) fail('external_id', 'is empty');
  else if (out.external_id.length > 200) fail('external_id', 'is longer than 200 characters');

  const text = (col: string, max: number) => {
    if (!(col in rec)) return undefined;
    const v = rec[col].trim();
    if (v.length > max) fail(col, `is longer than ${max} characters`);
    return v || null;
  };
  if ('name' in rec) out.name = text('name', 200) ?? '';
  if ('phone' in rec) out.phone = text('phone', 50);
  if ('email' in rec) {
    out.email = text('email', 320);
    if (out.email && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(out.email)) fail('email', 'is not an email address');
  }
  if ('owner_email' in rec) {
    const email = rec.owner_email.trim().toLowerCase();
    out.owner_id = email ? (ctx.ownerIds.get(email) ?? null) : null;
    if (email && !out.owner_id) fail('owner_email', 'no active user has this email');
  }
  if ('timezone' in rec && rec.timezone.trim()) {
    out.timezone = rec.timezone.trim();
    if (!ctx.timeZones.has(out.timezone)) fail('timezone', 'is not an IANA time zone');
  }
  for (const [col, key, integer] of [['order_count', 'order_count', true], ['total_spend', 'total_spend', false], ['spend_30d', 'spend_30d', false]] as const) {
    const v = rec[col]?.trim();
    if (!v) continue;
    if (!NUMBER.test(v) || Number(v) < 0 || (integer && !Number.isInteger(Number(v)))) fail(col, integer ? 'must be a whole number ≥ 0' : 'must be a number ≥ 0');
    else out[key] = Number(v);
  }
  for (const col of ['last_order_at', 'last_contacted_at', 'last_responded_at'] as const) {
    if (!(col in rec)) continue;
    const v = rec[col].trim();
    const at = v ? Date.parse(v) : null; // parsed once: this runs for every row
    if (Number.isNaN(at)) fail(col, 'is not a date (use ISO 8601, e.g. 2026-11-01T08:00:00+08:00)');
    else out[col] = at === null ? null : new Date(at).toISOString();
  }
  const attributes: Record<string, string | number | boolean> = {};
  for (const [col, value] of Object.entries(rec)) {
    if (!col.startsWith('attr.') || value.trim() === '') continue;
    const v = value.trim();
    attributes[col.slice(5)] = NUMBER.test(v) ? Number(v) : v === 'true' ? true : v === 'false' ? false : v;
  }
  if (Object.keys(attributes).length) out.attributes = attributes;
  if (rec.tags?.trim()) {
    const groups = new Set<string>();
    for (const name of rec.tags.split('|').map((t) => t.trim()).filter(Boolean)) {
      const num = ctx.tagNums.get(name.toLowerCase());
      if (num === undefined) {
        fail('tags', `unknown tag "${name}" (write "Group:Tag" when names repeat across groups)`);
        continue;
      }
      const group = ctx.exclusiveGroupOf.get(num);
      if (group && groups.has(group)) fail('tags', `two tags of the exclusive group "${group}"`);
      if (group) groups.add(group);
      out.tag_nums.push(num);
    }
  }
  return errors.length ? errors : out;
}
