import { Injectable } from '@nestjs/common';
import { Db } from '../../../../common/database/db';
import { SigningKeyRepository, type SigningKey } from '../../ports/signing-key.repository';

@Injectable()
export class SigningKeyPostgresRepository extends SigningKeyRepository {
  constructor(private readonly db: Db) {
    super();
  }

  async list(): Promise<SigningKey[]> {
    const rows = await this.db.query<{ kid: string; secret: string; created_at: Date }>(
      `SELECT kid, secret, created_at FROM signing_keys ORDER BY created_at DESC, kid DESC`,
    );
    return rows.map((r) => ({ kid: r.kid, secret: r.secret, createdAt: r.created_at }));
  }

  async addUnlessNewerExists(
    key: { kid: string; secret: string },
    unlessNewerThan: Date,
  ): Promise<boolean> {
    // The advisory lock makes the check and the insert one step across instances.
    const rows = await this.db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('parley:signing_keys'))`);
      return tx.query<{ kid: string }>(
        `INSERT INTO signing_keys (kid, secret)
         SELECT $1, $2
         WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE created_at > $3)
         RETURNING kid`,
        [key.kid, key.secret, unlessNewerThan],
      );
    });
    return rows.length === 1;
  }

  async deleteCreatedBefore(before: Date): Promise<number> {
    const rows = await this.db.query<{ kid: string }>(
      `DELETE FROM signing_keys
       WHERE created_at < $1
         AND kid <> (SELECT kid FROM signing_keys ORDER BY created_at DESC, kid DESC LIMIT 1)
       RETURNING kid`,
      [before],
    );
    return rows.length;
  }

  async namedSecret(name: string, candidate: string): Promise<string> {
    await this.db.query(
      `INSERT INTO server_secrets (name, secret) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`,
      [name, candidate],
    );
    const rows = await this.db.query<{ secret: string }>(
      `SELECT secret FROM server_secrets WHERE name = $1`,
      [name],
    );
    return rows[0].secret;
  }
}
