import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 16 item 5, attachments: image materials go to WeCom as uploaded images and link materials through a
 * tracked link of the batch.
 *
 * - `wecom_media`: the media_id WeCom gave for an image material's bytes (per tenant, material, content digest and
 *   use: `template` through media/upload, `moment` through media/upload_attachment), with its expiry (WeCom keeps a
 *   media_id 3 days), so the templates of one pass upload each image once;
 * - `materials.image_*`: what the SOP check last learned of an image material's URL (bytes and sniffed type), so a
 *   save does not fetch it again while the URL is the same;
 * - `wecom_mass_sends.link_token`: the secret of the batch's tracked links (`/r/w<row>-<material>-<token>`), one
 *   per template: WeCom sends one content to every customer of it;
 * - `link_opens.batch`: an open through such a link, counted on the batch's first task without a contact.
 */
export class WecomMedia1765757000000 implements MigrationInterface {
  name = 'WecomMedia1765757000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE wecom_media (
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        material_id uuid NOT NULL,
        sha256 text NOT NULL,
        purpose text NOT NULL CHECK (purpose IN ('template', 'moment')),
        media_id text NOT NULL,
        uploaded_at timestamptz(3) NOT NULL DEFAULT now(),
        expires_at timestamptz(3) NOT NULL,
        PRIMARY KEY (tenant_id, material_id, sha256, purpose)
      );
      ALTER TABLE materials ADD COLUMN image_checked_url text, ADD COLUMN image_bytes int, ADD COLUMN image_type text;
      ALTER TABLE wecom_mass_sends ADD COLUMN link_token text;
      ALTER TABLE link_opens ADD COLUMN batch boolean NOT NULL DEFAULT false;
      ALTER TABLE link_opens DROP CONSTRAINT link_opens_pkey, ADD PRIMARY KEY (task_id, material_index, day, batch);
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      DELETE FROM link_opens WHERE batch;
      ALTER TABLE link_opens DROP CONSTRAINT link_opens_pkey, ADD PRIMARY KEY (task_id, material_index, day);
      ALTER TABLE link_opens DROP COLUMN batch;
      ALTER TABLE wecom_mass_sends DROP COLUMN link_token;
      ALTER TABLE materials DROP COLUMN image_checked_url, DROP COLUMN image_bytes, DROP COLUMN image_type;
      DROP TABLE wecom_media;
    `);
  }
}
