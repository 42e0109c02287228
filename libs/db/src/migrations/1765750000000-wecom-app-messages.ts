import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Reminders also go as the WeCom app's text cards (`message/send`) to employees matched to a WeCom member of a
 * connected corporation: one more delivery channel, `wecom_app`, whose target key is `wecom_app` (one per
 * notification; the member is read from `wecom_users` when the delivery is sent).
 */
export class WecomAppMessages1765750000000 implements MigrationInterface {
  name = 'WecomAppMessages1765750000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE notification_deliveries DROP CONSTRAINT notification_deliveries_channel_check,
        ADD CONSTRAINT notification_deliveries_channel_check CHECK (channel IN ('email', 'wecom', 'dingtalk', 'feishu', 'webhook', 'wecom_app'));
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      DELETE FROM notification_deliveries WHERE channel = 'wecom_app';
      ALTER TABLE notification_deliveries DROP CONSTRAINT notification_deliveries_channel_check,
        ADD CONSTRAINT notification_deliveries_channel_check CHECK (channel IN ('email', 'wecom', 'dingtalk', 'feishu', 'webhook'));
    `);
  }
}
