/**
 * Every dashboard table as CSV (UTF-8 with a byte-order mark, so Excel shows Chinese; formula-like cells
 * guarded) or as an .xlsx workbook (ExcelJS), with headers in the caller's language.
 */
import * as ExcelJS from 'exceljs';
import type { HttpReply } from '../../common/http';
import type { Lang } from './dashboards.dto';

export interface Column<R> {
  zh: string;
  en: string;
  value: (row: R) => string | number | boolean | null;
  /** a rate: shown as a percentage in .xlsx */
  rate?: boolean;
}

export interface Sheet<R = any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  name: { zh: string; en: string };
  columns: Column<R>[];
  rows: R[];
}

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** The measure columns every table shares (docs/dashboards.md defines each). */
export function measureColumns<R extends Record<string, unknown>>(): Column<R>[] {
  const n = (key: string) => (r: R) => (r[key] as number | null) ?? null;
  return [
    { zh: '创建任务', en: 'Created', value: n('created') },
    { zh: '已完成', en: 'Done', value: n('done') },
    { zh: '已跳过', en: 'Skipped', value: n('skipped') },
    { zh: '已过期', en: 'Expired', value: n('expired') },
    { zh: '已取消', en: 'Cancelled', value: n('cancelled') },
    { zh: '当前逾期', en: 'Overdue now', value: n('overdueNow') },
    { zh: '已截止', en: 'Window closed', value: n('closed') },
    { zh: '完成率', en: 'Completion rate', value: n('completionRate'), rate: true },
    { zh: '准时率', en: 'On-time rate', value: n('onTimeRate'), rate: true },
    { zh: '完成用时中位数（分钟）', en: 'Median minutes to done', value: n('medianMinutesToDone') },
    { zh: '有回应', en: 'Responded', value: n('responded') },
    { zh: '回应率', en: 'HttpReply rate', value: n('responseRate'), rate: true },
    { zh: '转化', en: 'Converted', value: n('converted') },
    { zh: '转化率', en: 'Conversion rate', value: n('conversionRate'), rate: true },
    { zh: '购买次数', en: 'Purchases', value: n('purchases') },
    { zh: '收入', en: 'Revenue', value: n('revenue') },
  ];
}

const FORMULA = /^[=+\-@\t\r]/;
function csvCell(v: string | number | boolean | null): string {
  if (v === null || v === undefined) return '';
  let s = String(v);
  if (typeof v === 'string' && FORMULA.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export async function sendSheets(res: HttpReply, format: 'csv' | 'xlsx', filename: string, sheets: Sheet[], lang: Lang): Promise<void> {
  if (format === 'csv') {
    const [sheet] = sheets;
    const lines = [sheet.columns.map((c) => csvCell(c[lang])).join(',')];
    for (const row of sheet.rows) lines.push(sheet.columns.map((c) => csvCell(c.value(row))).join(','));
    await res.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${filename}.csv"`)
      .send(`\uFEFF${lines.join('\r\n')}\r\n`);
    return;
  }
  const book = new ExcelJS.Workbook();
  book.created = new Date();
  for (const sheet of sheets) {
    const ws = book.addWorksheet(sheet.name[lang].slice(0, 31));
    ws.columns = sheet.columns.map((c) => ({ header: c[lang], width: Math.max(10, c[lang].length * (lang === 'zh' ? 2 : 1) + 2),
      style: c.rate ? { numFmt: '0.0%' } : {} }));
    ws.getRow(1).font = { bold: true };
    ws.views = [{ state: 'frozen', ySplit: 1 }];
    for (const row of sheet.rows) ws.addRow(sheet.columns.map((c) => c.value(row)));
  }
  const bytes = Buffer.from(await book.xlsx.writeBuffer());
  await res.type(XLSX_TYPE).header('content-disposition', `attachment; filename="${filename}.xlsx"`).send(bytes);
}
