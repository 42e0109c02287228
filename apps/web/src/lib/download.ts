import { ApiError, tokenStore } from '../api/client';

/** Hands the browser a file to save (a CSV a person opens in Excel gets a byte-order mark so Chinese shows). */
export function downloadFile(name: string, content: BlobPart, type = 'text/csv;charset=utf-8'): void {
  const body = type.startsWith('text/csv') && typeof content === 'string' ? `\ufeff${content}` : content;
  const link = Object.assign(document.createElement('a'), { href: URL.createObjectURL(new Blob([body], { type })), download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

/** One CSV line: quoted where needed, formula-like cells guarded as the API's export does. */
export function csvLine(cells: (string | number | null | undefined)[]): string {
  return cells.map((cell) => {
    let text = cell === null || cell === undefined ? '' : String(cell);
    if (/^[=+\-@\t\r]/.test(text) && !/^[+-]?[\d\s.]+$/.test(text)) text = `'${text}`;
    return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  }).join(',');
}

/**
 * Downloads a file the API makes (an export), signed in: the name is the one the API gives
 * (Content-Disposition), else `fallback`. A refusal throws like any other API call.
 */
export async function downloadFromApi(path: string, fallback: string): Promise<void> {
  const res = await fetch(path, { headers: { authorization: `Bearer ${tokenStore.get()}` } });
  if (!res.ok) {
    const body = await res.json().catch(() => ({})) as { code?: string; message?: string; details?: [] };
    throw new ApiError(res.status, body.code ?? 'INTERNAL', body.message ?? res.statusText, body.details ?? []);
  }
  const disposition = res.headers.get('content-disposition') ?? '';
  const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition);
  const plain = /filename="?([^";]+)"?/i.exec(disposition);
  const name = star ? decodeURIComponent(star[1]) : plain ? plain[1] : fallback;
  downloadFile(name, await res.blob(), res.headers.get('content-type') ?? 'application/octet-stream');
}
