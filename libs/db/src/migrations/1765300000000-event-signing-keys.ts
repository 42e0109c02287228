import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 15. An API key remembers which server key (EVENT_SIGNING_KEYS, by id) its events signing secret was
 * derived from, so the server key can be rotated: new and rotated API keys use the first configured key, older
 * ones keep verifying under theirs while it stays configured. NULL: the single EVENT_SIGNING_SECRET of before.
 * A rotation also draws a new random nonce into the derivation, so it gives a new secret even under the same
 * server key (a leaked secret can be replaced); NULL: keys derived from their id alone, as before.
 */
export class EventSigningKeys1765300000000 implements MigrationInterface {
  name = 'EventSigningKeys1765300000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE api_keys ADD COLUMN signing_key_id text, ADD COLUMN signing_nonce text');
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE api_keys DROP COLUMN signing_key_id, DROP COLUMN signing_nonce');
  }
}
