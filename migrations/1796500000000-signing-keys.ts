import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Secrets shared by every instance on one database: access-token signing keys (with a key
 * id, rotated) and the key that hashes sign-in codes. Kept in the database so instances
 * that share DATABASE_URL agree without a JWT_SECRET setting.
 */
export class SigningKeys1796500000000 implements MigrationInterface {
  name = 'SigningKeys1796500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE signing_keys (
        kid text PRIMARY KEY,
        secret text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX signing_keys_created_at ON signing_keys (created_at DESC)`);
    await q.query(`
      CREATE TABLE server_secrets (
        name text PRIMARY KEY,
        secret text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE server_secrets`);
    await q.query(`DROP TABLE signing_keys`);
  }
}
