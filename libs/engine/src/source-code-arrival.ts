/**
 * A contact arrives through a source (channel) code: the code's tags and, when the contact has no owner yet,
 * the code's owner (an existing relationship is not taken away); a new contact is announced as
 * `contact.joined`. Shared by the API (join page, events API) and the worker (a WeCom contact added with the
 * code as its `State`), in the caller's transaction. Repeating it changes nothing.
 */
import { contactsChanged } from './contacts-changed';
import type { Queryable } from './queryable';
import { changeTags } from './tag-changes';

export interface SourceCodeRow {
  id: string;
  code: string;
  name: string;
  tag_ids: string[];
  owner_id: string | null;
  created_at: Date;
}

export async function findSourceCode(m: Queryable, tenantId: string, code: string): Promise<SourceCodeRow | null> {
  const [row] = await m.query(`SELECT * FROM source_codes WHERE tenant_id = $1 AND code = $2`, [tenantId, code]);
  return row ?? null;
}

export async function arriveThroughCode(
  m: Queryable, tenantId: string, code: SourceCodeRow, contact: { id: string; created: boolean },
): Promise<void> {
  if (code.owner_id) {
    await m.query(`UPDATE contacts SET owner_id = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2 AND owner_id IS NULL`, [tenantId, contact.id, code.owner_id]);
  }
  if (code.tag_ids.length) {
    await changeTags(m, tenantId, [contact.id], { add: code.tag_ids, reason: `joined via ${code.code}` }, { type: 'source_code', id: code.id });
  } else {
    await contactsChanged(m, tenantId, [contact.id]);
  }
  if (contact.created) {
    await m.query(`INSERT INTO domain_events (tenant_id, type, payload) VALUES ($1, 'contact.joined', $2)`, [
      tenantId, { contactId: contact.id, sourceCodeId: code.id, code: code.code },
    ]);
  }
}
