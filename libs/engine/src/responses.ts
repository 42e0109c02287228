/**
 * Responses: something a contact did (an executor's outcome, an opened tracked link, an event from another
 * system), recorded in the caller's transaction together with its effects. The tenant's response rules that
 * match it change the contact's tags right there (actor 'response', the rule named in the reason), so the
 * outbox announces the change and segments and SOPs follow as with any other tag change.
 */
import type { ResponseKind, ResponseSource } from '@sop/domain';
import type { Queryable } from './queryable';
import { changeTags } from './tag-changes';

export interface ResponseInput {
  contactId: string;
  kind: ResponseKind;
  source: ResponseSource;
  /** the executor's outcome (kind 'outcome') */
  outcome?: string;
  /** a custom event's name (kind 'custom') */
  name?: string;
  /** a purchase's amount (kind 'bought') */
  amount?: number;
  taskId?: string;
  sopId?: string;
  stepIndex?: number;
  /** the opened material's title */
  material?: string;
  eventId?: string;
  data?: Record<string, unknown>;
  occurredAt?: Date;
}

export interface RecordedResponse {
  id: string;
  /** the rules that matched, in the order they were applied */
  rules: { id: string; name: string }[];
}

interface RuleRow {
  id: string;
  name: string;
  add_tag_ids: string[];
  remove_tag_ids: string[];
  weight: string | null;
}

export async function recordResponse(m: Queryable, tenantId: string, r: ResponseInput): Promise<RecordedResponse> {
  const [row] = await m.query(
    `INSERT INTO responses (tenant_id, contact_id, kind, source, outcome, name, amount, task_id, sop_id, step_index, material, event_id, data, occurred_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, coalesce($14::timestamptz, now())) RETURNING id::text`,
    [tenantId, r.contactId, r.kind, r.source, r.outcome ?? null, r.name ?? null, r.amount ?? null, r.taskId ?? null, r.sopId ?? null,
      r.stepIndex ?? null, r.material ?? null, r.eventId ?? null, r.data ?? {}, r.occurredAt ?? null],
  );
  await m.query(`INSERT INTO domain_events (tenant_id, type, payload) VALUES ($1, 'response.recorded', $2)`, [
    tenantId, { contactIds: [r.contactId], responseId: row.id, kind: r.kind, source: r.source }]);
  const rules = await matchingRules(m, tenantId, r);
  for (const rule of rules) {
    await changeTags(m, tenantId, [r.contactId], {
      add: rule.add_tag_ids, remove: rule.remove_tag_ids, weight: rule.weight === null ? undefined : Number(rule.weight),
      reason: `response rule "${rule.name}"`,
    }, { type: 'response', id: rule.id });
  }
  return { id: row.id, rules: rules.map(({ id, name }) => ({ id, name })) };
}

/** Every enabled rule whose set conditions all hold, oldest first (a later rule has the last word). */
async function matchingRules(m: Queryable, tenantId: string, r: ResponseInput): Promise<RuleRow[]> {
  return m.query(
    `SELECT id, name, add_tag_ids, remove_tag_ids, weight FROM response_rules
      WHERE tenant_id = $1 AND enabled AND kind = $2
        AND (outcome IS NULL OR outcome = $3) AND (sop_id IS NULL OR sop_id = $4::uuid)
        AND (step_index IS NULL OR step_index = $5) AND (material IS NULL OR material = $6)
        AND (event_name IS NULL OR event_name = $7) AND (min_amount IS NULL OR min_amount <= $8::numeric)
      ORDER BY created_at, id`,
    [tenantId, r.kind, r.outcome ?? null, r.sopId ?? null, r.stepIndex ?? null, r.material ?? null, r.name ?? null, r.amount ?? null],
  );
}
