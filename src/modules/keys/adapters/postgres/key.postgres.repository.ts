import { Injectable } from '@nestjs/common';
import { Db } from '../../../../common/database/db';
import type {
  DeviceBundle,
  DeviceKeysUpload,
  KeyCounts,
  SignedPreKey,
  TakenBundle,
} from '../../domain/keys';
import { KeyRepository, type StoreOutcome } from '../../ports/key.repository';

interface DeviceRow {
  device_id: string;
  registration_id: number;
  signed_pre_key_id: number;
  signed_pre_key: string;
  signed_pre_key_signature: string;
  pq_last_resort_key_id: number | null;
  pq_last_resort_key: string | null;
  pq_last_resort_signature: string | null;
  count: number;
  pq_count: number;
}

@Injectable()
export class KeyPostgresRepository extends KeyRepository {
  constructor(private readonly db: Db) {
    super();
  }

  async store(u: DeviceKeysUpload): Promise<StoreOutcome> {
    return this.db.transaction(async (tx) => {
      // The row lock serializes concurrent uploads of one user, so two devices racing
      // with different identities end with one identity and only its devices' keys.
      const [previous] = await tx.query<{ identity_key: string }>(
        `SELECT identity_key FROM identity_keys WHERE user_id = $1 FOR UPDATE`,
        [u.userId],
      );
      const identityChanged = !!previous && previous.identity_key !== u.identityKey;
      if (!previous || identityChanged) {
        await tx.query(
          `INSERT INTO identity_keys (user_id, identity_key) VALUES ($1, $2)
           ON CONFLICT (user_id) DO UPDATE SET identity_key = excluded.identity_key, updated_at = now()`,
          [u.userId, u.identityKey],
        );
      }
      if (identityChanged) {
        await tx.query(
          `WITH others AS (DELETE FROM device_keys WHERE user_id = $1 AND device_id <> $2 RETURNING device_id),
                ec AS (DELETE FROM one_time_pre_keys WHERE device_id IN (SELECT device_id FROM others))
           DELETE FROM kyber_pre_keys WHERE device_id IN (SELECT device_id FROM others)`,
          [u.userId, u.deviceId],
        );
      }
      const last = u.pqLastResortPreKey;
      await tx.query(
        `INSERT INTO device_keys (device_id, user_id, registration_id, signed_pre_key_id, signed_pre_key,
                                  signed_pre_key_signature, pq_last_resort_key_id, pq_last_resort_key,
                                  pq_last_resort_signature)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (device_id) DO UPDATE SET
           registration_id = excluded.registration_id,
           signed_pre_key_id = excluded.signed_pre_key_id,
           signed_pre_key = excluded.signed_pre_key,
           signed_pre_key_signature = excluded.signed_pre_key_signature,
           pq_last_resort_key_id = COALESCE(excluded.pq_last_resort_key_id, device_keys.pq_last_resort_key_id),
           pq_last_resort_key = COALESCE(excluded.pq_last_resort_key, device_keys.pq_last_resort_key),
           pq_last_resort_signature = COALESCE(excluded.pq_last_resort_signature, device_keys.pq_last_resort_signature),
           updated_at = now()`,
        [
          u.deviceId,
          u.userId,
          u.registrationId,
          u.signedPreKey.keyId,
          u.signedPreKey.publicKey,
          u.signedPreKey.signature,
          last?.keyId ?? null,
          last?.publicKey ?? null,
          last?.signature ?? null,
        ],
      );
      if (u.preKeys.length) {
        await tx.query(
          `INSERT INTO one_time_pre_keys (device_id, key_id, public_key)
           SELECT $1, * FROM unnest($2::int[], $3::text[])
           ON CONFLICT (device_id, key_id) DO UPDATE SET public_key = excluded.public_key`,
          [u.deviceId, u.preKeys.map((k) => k.keyId), u.preKeys.map((k) => k.publicKey)],
        );
      }
      if (u.pqPreKeys.length) {
        await tx.query(
          `INSERT INTO kyber_pre_keys (device_id, key_id, public_key, signature)
           SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[])
           ON CONFLICT (device_id, key_id) DO UPDATE SET public_key = excluded.public_key, signature = excluded.signature`,
          [
            u.deviceId,
            u.pqPreKeys.map((k) => k.keyId),
            u.pqPreKeys.map((k) => k.publicKey),
            u.pqPreKeys.map((k) => k.signature),
          ],
        );
      }
      return { identityChanged };
    });
  }

  async counts(deviceId: string): Promise<KeyCounts> {
    const [row] = await this.db.query<{ count: number; pq_count: number }>(
      `SELECT (SELECT count(*)::int FROM one_time_pre_keys WHERE device_id = $1) AS count,
              (SELECT count(*)::int FROM kyber_pre_keys WHERE device_id = $1) AS pq_count`,
      [deviceId],
    );
    return { count: row?.count ?? 0, pqCount: row?.pq_count ?? 0 };
  }

  async take(userId: string, deviceIds: readonly string[] | null): Promise<TakenBundle | null> {
    const [identity] = await this.db.query<{ identity_key: string }>(
      `SELECT identity_key FROM identity_keys WHERE user_id = $1`,
      [userId],
    );
    if (!identity) return null;
    const devices = await this.db.query<DeviceRow>(
      `SELECT d.device_id, d.registration_id, d.signed_pre_key_id, d.signed_pre_key, d.signed_pre_key_signature,
              d.pq_last_resort_key_id, d.pq_last_resort_key, d.pq_last_resort_signature,
              (SELECT count(*)::int FROM one_time_pre_keys p WHERE p.device_id = d.device_id) AS count,
              (SELECT count(*)::int FROM kyber_pre_keys k WHERE k.device_id = d.device_id) AS pq_count
         FROM device_keys d
        WHERE d.user_id = $1 AND ($2::uuid[] IS NULL OR d.device_id = ANY($2::uuid[]))
        ORDER BY d.device_id`,
      [userId, deviceIds ? [...deviceIds] : null],
    );
    if (!devices.length) return { identityKey: identity.identity_key, devices: [] };
    const ids = devices.map((d) => d.device_id);
    const [ec, kyber] = await Promise.all([
      this.takeLowest<{ device_id: string; key_id: number; public_key: string }>(
        'one_time_pre_keys',
        'p.public_key',
        ids,
      ),
      this.takeLowest<{ device_id: string; key_id: number; public_key: string; signature: string }>(
        'kyber_pre_keys',
        'p.public_key, p.signature',
        ids,
      ),
    ]);
    const ecOf = new Map(ec.map((r) => [r.device_id, r]));
    const kyberOf = new Map(kyber.map((r) => [r.device_id, r]));
    return {
      identityKey: identity.identity_key,
      devices: devices.map((d) => {
        const pre = ecOf.get(d.device_id);
        const pq = kyberOf.get(d.device_id);
        const bundle: DeviceBundle = {
          deviceId: d.device_id,
          registrationId: d.registration_id,
          signedPreKey: {
            keyId: d.signed_pre_key_id,
            publicKey: d.signed_pre_key,
            signature: d.signed_pre_key_signature,
          },
          preKey: pre ? { keyId: pre.key_id, publicKey: pre.public_key } : null,
          pqPreKey: pq
            ? { keyId: pq.key_id, publicKey: pq.public_key, signature: pq.signature }
            : lastResort(d),
        };
        return {
          ...bundle,
          // Counted before the take: what is left is at most one less of each.
          remaining: {
            count: Math.max(0, d.count - (pre ? 1 : 0)),
            pqCount: Math.max(0, d.pq_count - (pq ? 1 : 0)),
          },
        };
      }),
    };
  }

  /**
   * Deletes and returns the lowest key of each device in one statement, skipping rows
   * that a concurrent fetch holds (SKIP LOCKED): two fetches never take the same row, and
   * neither waits for the other.
   */
  private takeLowest<R>(table: string, columns: string, deviceIds: string[]): Promise<R[]> {
    return this.db.query<R>(
      `DELETE FROM ${table} p
        USING (SELECT k.device_id, k.key_id FROM unnest($1::uuid[]) AS d(id)
               CROSS JOIN LATERAL (SELECT device_id, key_id FROM ${table}
                                    WHERE device_id = d.id ORDER BY key_id LIMIT 1
                                    FOR UPDATE SKIP LOCKED) k) t
        WHERE p.device_id = t.device_id AND p.key_id = t.key_id
        RETURNING p.device_id, p.key_id, ${columns}`,
      [deviceIds],
    );
  }

  async deviceIdsWithKeys(userId: string): Promise<string[]> {
    const rows = await this.db.query<{ device_id: string }>(
      `SELECT device_id FROM device_keys WHERE user_id = $1 ORDER BY device_id`,
      [userId],
    );
    return rows.map((r) => r.device_id);
  }

  async deleteDevice(deviceId: string): Promise<void> {
    await this.db.query(
      `WITH d AS (DELETE FROM device_keys WHERE device_id = $1),
            ec AS (DELETE FROM one_time_pre_keys WHERE device_id = $1)
       DELETE FROM kyber_pre_keys WHERE device_id = $1`,
      [deviceId],
    );
  }
}

function lastResort(d: DeviceRow): SignedPreKey | null {
  if (d.pq_last_resort_key_id === null || !d.pq_last_resort_key || !d.pq_last_resort_signature)
    return null;
  return {
    keyId: d.pq_last_resort_key_id,
    publicKey: d.pq_last_resort_key,
    signature: d.pq_last_resort_signature,
  };
}
