import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/**
 * The `stream_ticket_uses` rows (each stream ticket opens one stream) and the check that a ticket's user is still
 * active: the API's one home for that SQL. A ticket carries its organization, and the user is looked up within it.
 */
@Injectable()
export class StreamTicketsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Whether the user is an active member of the organization. */
  async isActiveUser(tenantId: string, userId: string): Promise<boolean> {
    const [user] = await this.db.query(`SELECT 1 FROM users WHERE id = $1 AND tenant_id = $2 AND disabled_at IS NULL`, [userId, tenantId]);
    return !!user;
  }

  /** Forgets the uses of tickets expired more than a minute ago (a ticket holds no organization's data). */
  async forgetExpiredUses(): Promise<void> {
    await this.db.query(`DELETE FROM stream_ticket_uses WHERE expires_at < now() - interval '1 minute'`);
  }

  /** Records the ticket's use; false when it was used before. */
  async recordUse(jti: string, exp: number): Promise<boolean> {
    const rows = await this.db.query(
      `INSERT INTO stream_ticket_uses (jti, expires_at) VALUES ($1, to_timestamp($2)) ON CONFLICT DO NOTHING RETURNING jti`, [jti, exp]);
    return rows.length === 1;
  }
}
