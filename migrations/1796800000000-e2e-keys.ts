import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * End-to-end encryption: public keys per user (identity) and per device (signed prekey,
 * one-time EC prekeys, Kyber prekeys with a last-resort one), and per-device envelopes of
 * messages sent end-to-end. The server holds only public keys and ciphertext.
 */
export class E2eKeys1796800000000 implements MigrationInterface {
  name = 'E2eKeys1796800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE identity_keys (
        user_id uuid PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        identity_key text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE device_keys (
        device_id uuid PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        registration_id int NOT NULL,
        signed_pre_key_id int NOT NULL,
        signed_pre_key text NOT NULL,
        signed_pre_key_signature text NOT NULL,
        pq_last_resort_key_id int,
        pq_last_resort_key text,
        pq_last_resort_signature text,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX device_keys_user_idx ON device_keys (user_id)`);
    // One-time keys are handed out at most once: a fetch deletes the row it takes.
    await q.query(`
      CREATE TABLE one_time_pre_keys (
        device_id uuid NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
        key_id int NOT NULL,
        public_key text NOT NULL,
        PRIMARY KEY (device_id, key_id)
      )`);
    await q.query(`
      CREATE TABLE kyber_pre_keys (
        device_id uuid NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
        key_id int NOT NULL,
        public_key text NOT NULL,
        signature text NOT NULL,
        PRIMARY KEY (device_id, key_id)
      )`);
    await q.query(`ALTER TABLE messages ADD COLUMN e2e boolean NOT NULL DEFAULT false`);
    await q.query(`
      CREATE TABLE message_envelopes (
        -- No foreign key to messages: with MESSAGE_STORE=cassandra the message row lives in
        -- Cassandra. Every path that deletes messages deletes their envelopes too.
        message_id uuid NOT NULL,
        device_id uuid NOT NULL,
        body text NOT NULL,
        PRIMARY KEY (device_id, message_id)
      )`);
    await q.query(`CREATE INDEX message_envelopes_message_idx ON message_envelopes (message_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE message_envelopes`);
    await q.query(`ALTER TABLE messages DROP COLUMN e2e`);
    await q.query(`DROP TABLE kyber_pre_keys`);
    await q.query(`DROP TABLE one_time_pre_keys`);
    await q.query(`DROP TABLE device_keys`);
    await q.query(`DROP TABLE identity_keys`);
  }
}
