import { type BusinessCalendar, type DayInfo, nextOccurrences, renderTemplate } from '@sop/domain';
import { DateTime } from 'luxon';
import type { Queryable } from './queryable';
import { CONTACT_SCOPE_COLUMNS, contactScope, type ContactScopeRow } from './sop-people';

// What the SOP designer shows before anything runs, computed by the code that runs it.

export interface PlannedOccurrence {
  /** the instant */
  at: Date;
  /** wall-clock date and time in the SOP's zone, `YYYY-MM-DD HH:mm` */
  local: string;
  /** 1 = Monday … 7 = Sunday */
  weekday: number;
  day: DayInfo;
  /** false: the SOP works business days only and this day is not one (no tasks that day) */
  runs: boolean;
}

/**
 * The next `count` occurrences of a recurring rule that make tasks, in the SOP's zone, with the days skipped
 * on the way (holidays and weekends, when the SOP works business days only) listed where they fall.
 */
export function planOccurrences(
  rule: string, zone: string, opts: { businessDaysOnly: boolean; calendar: BusinessCalendar; after: Date; count: number },
): PlannedOccurrence[] {
  const out: PlannedOccurrence[] = [];
  let after = opts.after;
  // A rule could fall on non-working days only (every Sunday): look at a bounded number of occurrences.
  for (let looked = 0; out.filter((o) => o.runs).length < opts.count && looked < opts.count * 10;) {
    const batch = nextOccurrences(rule, zone, after, opts.count, opts.after);
    if (!batch.length) break;
    for (const at of batch) {
      const local = DateTime.fromJSDate(at, { zone });
      const day = opts.calendar.day(local.toISODate()!);
      out.push({ at, local: local.toFormat('yyyy-LL-dd HH:mm'), weekday: local.weekday, day, runs: !opts.businessDaysOnly || day.working });
      looked++;
      if (out.filter((o) => o.runs).length === opts.count) break;
    }
    after = batch[batch.length - 1];
  }
  return out;
}

/**
 * A step's message for one contact, rendered with the scope the dispatcher gives it (the contact, their
 * owner as executor); null when the contact is not the tenant's. Throws when the template cannot render.
 */
export async function renderForContact(
  db: Queryable, tenantId: string, input: { template: string; contactId: string; sopName: string; stepName: string },
): Promise<{ text: string; contact: { id: string; name: string } } | null> {
  const [row]: (ContactScopeRow & { id: string; owner_name: string | null; owner_email: string | null })[] = await db.query(
    `SELECT c.id, ${CONTACT_SCOPE_COLUMNS}, u.name AS owner_name, u.email AS owner_email
       FROM contacts c LEFT JOIN users u ON u.id = c.owner_id AND u.tenant_id = c.tenant_id AND u.disabled_at IS NULL
      WHERE c.tenant_id = $1 AND c.id = $2`,
    [tenantId, input.contactId],
  );
  if (!row) return null;
  const owner = row.owner_name !== null ? { name: row.owner_name, email: row.owner_email ?? '' } : null;
  const text = renderTemplate(input.template, {
    contact: contactScope(row), owner, sop: { name: input.sopName }, step: { name: input.stepName }, executor: owner,
  });
  return { text, contact: { id: row.id, name: row.name } };
}
