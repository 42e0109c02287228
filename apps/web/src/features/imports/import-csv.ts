import type { TFunction } from 'i18next';
import type { TagGroup } from '../../api/models';
import { csvLine, downloadFile } from '../../lib/download';

/** The columns the importer takes (apps/api/src/modules/imports/contact-row.ts), in the sample's order. */
export const IMPORT_COLUMNS = [
  'external_id', 'name', 'phone', 'email', 'owner_email', 'timezone', 'tags',
  'order_count', 'total_spend', 'spend_30d', 'last_order_at', 'last_contacted_at', 'last_responded_at',
] as const;
export type ImportColumn = (typeof IMPORT_COLUMNS)[number];

/** A CSV file as Excel opens it with Chinese intact (byte-order mark, CRLF lines), handed to the browser to save. */
export function downloadCsv(name: string, rows: (string | number | null | undefined)[][]): void {
  downloadFile(name, `${rows.map(csvLine).join('\r\n')}\r\n`);
}

/**
 * About how many data rows a file holds (line breaks minus the header), read in chunks so a large file
 * is never held in memory whole; quoted line breaks make it a little high, which only slows the bar.
 */
export async function estimateRows(file: Blob): Promise<number> {
  const reader = file.stream().getReader();
  let breaks = 0;
  let last = 10;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    for (let i = 0; i < value.length; i++) if (value[i] === 10) breaks++;
    if (value.length) last = value[value.length - 1];
  }
  const lines = breaks + (last === 10 ? 0 : 1);
  return Math.max(0, lines - 1);
}

/** A random UUID, also where crypto.randomUUID is missing (pages served over plain http on a LAN). */
export function newId(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * A sample that imports as it is into this organization: its own tags ("Group:Tag", one per group so an
 * exclusive group never gets two) and the signed-in person as the owner of the first customer.
 */
export function sampleRows(groups: TagGroup[], ownerEmail: string | null): string[][] {
  const withTags = groups.filter((g) => g.tags.length);
  const first = withTags.slice(0, 2).map((g) => `${g.name}:${g.tags[0].name}`);
  const second = withTags[0]?.tags[1] ? [`${withTags[0].name}:${withTags[0].tags[1].name}`] : [];
  return [
    [...IMPORT_COLUMNS, 'attr.city', 'attr.member_level'],
    ['wx_zhangwei_001', '张伟', '13800138000', 'zhangwei@example.com', ownerEmail ?? '', 'Asia/Shanghai', first.join('|'),
      '3', '1288.50', '299', '2026-11-11T20:15:00+08:00', '2026-11-20T10:00:00+08:00', '', '上海', '金卡'],
    ['wx_lina_002', '李娜', '13900139000', '', '', 'Asia/Shanghai', second.join('|'),
      '1', '199', '0', '2026-09-02', '', '2026-10-08T15:30:00+08:00', '北京', '银卡'],
    ['wx_wangfang_003', '王芳', '', 'wangfang@example.com', '', '', '', '0', '0', '0', '', '', '', '杭州', ''],
  ];
}

/** The importer's reasons (English, from the API) in the viewer's language; unknown ones as they came. */
export function reasonText(t: TFunction, reason: string): string {
  const rules: [RegExp, string, (m: RegExpExecArray) => Record<string, string>][] = [
    [/^is empty$/, 'empty', () => ({})],
    [/^is longer than (\d+) characters$/, 'tooLong', (m) => ({ n: m[1] })],
    [/^is not an email address$/, 'email', () => ({})],
    [/^no active user has this email$/, 'owner', () => ({})],
    [/^is not an IANA time zone$/, 'timezone', () => ({})],
    [/^must be a whole number ≥ 0$/, 'wholeNumber', () => ({})],
    [/^must be a number ≥ 0$/, 'number', () => ({})],
    [/^is not a date/, 'date', () => ({})],
    [/^unknown tag "(.+)" \(write/, 'unknownTag', (m) => ({ name: m[1] })],
    [/^two tags of the exclusive group "(.+)"$/, 'exclusive', (m) => ({ group: m[1] })],
    [/^is not valid UTF-8 text$/, 'utf8', () => ({})],
    [/^contains a NUL character$/, 'nul', () => ({})],
    [/^repeated later in the file/, 'repeated', () => ({})],
    [/Record Length|record length/, 'fieldCount', () => ({})],
    [/Quote|quote/, 'quote', () => ({})],
    [/^unknown column "(.*)"$/, 'unknownColumn', (m) => ({ name: m[1] })],
    [/^the column external_id is required$/, 'externalIdMissing', () => ({})],
    [/^column "(.*)" appears twice$/, 'columnTwice', (m) => ({ name: m[1] })],
  ];
  for (const [pattern, key, values] of rules) {
    const m = pattern.exec(reason);
    if (m) return t(`reasons.${key}`, values(m));
  }
  return reason;
}

/** A column as the viewer reads it: its name in the file, with what it means. */
export function columnText(t: TFunction, column: string): string {
  if (column === '(row)') return t('columnWholeRow');
  if (column.startsWith('attr.')) return `${column} · ${t('columns.attr.label')}`;
  return (IMPORT_COLUMNS as readonly string[]).includes(column) ? `${column} · ${t(`columns.${column}.label`)}` : column;
}
