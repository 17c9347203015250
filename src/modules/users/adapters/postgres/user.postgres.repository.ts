import { Injectable } from '@nestjs/common';
import { Db } from '../../../../common/database/db';
import {
  DELETED_ACCOUNT_NAME,
  type GroupAddPrivacy,
  type LastSeenPrivacy,
  type User,
} from '../../domain/user';
import {
  UserRepository,
  type PrivacySettings,
  type ProfilePatch,
  type RegisteredContact,
} from '../../ports/user.repository';

interface UserRow {
  id: string;
  phone: string;
  display_name: string;
  about: string;
  last_seen_privacy: LastSeenPrivacy;
  read_receipts: boolean;
  group_add_privacy: GroupAddPrivacy;
  last_seen_at: Date | null;
  photo_media_id: string | null;
  created_at: Date;
  deleted_at: Date | null;
}

const columns =
  'id, phone, display_name, about, last_seen_privacy, read_receipts, group_add_privacy, last_seen_at, photo_media_id, created_at, deleted_at';

function toUser(row: UserRow): User {
  return {
    id: row.id,
    phone: row.phone,
    displayName: row.display_name,
    about: row.about,
    lastSeenPrivacy: row.last_seen_privacy,
    readReceipts: row.read_receipts,
    groupAddPrivacy: row.group_add_privacy,
    lastSeenAt: row.last_seen_at,
    photoMediaId: row.photo_media_id,
    createdAt: row.created_at,
    deletedAt: row.deleted_at,
  };
}

@Injectable()
export class UserPostgresRepository extends UserRepository {
  constructor(private readonly db: Db) {
    super();
  }

  async findOrCreateByPhone(id: string, phone: string): Promise<{ user: User; created: boolean }> {
    const inserted = await this.db.query<UserRow>(
      `INSERT INTO users (id, phone) VALUES ($1, $2) ON CONFLICT (phone) DO NOTHING RETURNING ${columns}`,
      [id, phone],
    );
    if (inserted[0]) return { user: toUser(inserted[0]), created: true };
    const [row] = await this.db.query<UserRow>(`SELECT ${columns} FROM users WHERE phone = $1`, [
      phone,
    ]);
    if (!row) throw new Error('user vanished during sign-in');
    return { user: toUser(row), created: false };
  }

  async findById(id: string): Promise<User | null> {
    const [row] = await this.db.query<UserRow>(`SELECT ${columns} FROM users WHERE id = $1`, [id]);
    return row ? toUser(row) : null;
  }

  async findManyByIds(ids: readonly string[]): Promise<User[]> {
    if (!ids.length) return [];
    const rows = await this.db.query<UserRow>(
      `SELECT ${columns} FROM users WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    return rows.map(toUser);
  }

  async updateProfile(id: string, patch: ProfilePatch): Promise<User | null> {
    const [row] = await this.db.query<UserRow>(
      `UPDATE users SET display_name = COALESCE($2, display_name), about = COALESCE($3, about),
         updated_at = now() WHERE id = $1 RETURNING ${columns}`,
      [id, patch.displayName ?? null, patch.about ?? null],
    );
    return row ? toUser(row) : null;
  }

  async setPhoto(
    id: string,
    photoMediaId: string | null,
  ): Promise<{ previous: string | null } | undefined> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query<{ photo_media_id: string | null }>(
        `SELECT photo_media_id FROM users WHERE id = $1 FOR UPDATE`,
        [id],
      );
      if (!row) return undefined;
      await tx.query(`UPDATE users SET photo_media_id = $2, updated_at = now() WHERE id = $1`, [
        id,
        photoMediaId,
      ]);
      return { previous: row.photo_media_id };
    });
  }

  async updatePrivacy(id: string, privacy: PrivacySettings): Promise<User | null> {
    const [row] = await this.db.query<UserRow>(
      `UPDATE users SET last_seen_privacy = $2, read_receipts = $3,
              group_add_privacy = COALESCE($4, group_add_privacy), updated_at = now()
         WHERE id = $1 RETURNING ${columns}`,
      [id, privacy.lastSeen, privacy.readReceipts, privacy.groupAdd ?? null],
    );
    return row ? toUser(row) : null;
  }

  async setLastSeen(id: string, at: Date): Promise<void> {
    await this.db.query(`UPDATE users SET last_seen_at = $2 WHERE id = $1`, [id, at]);
  }

  async replaceContacts(ownerId: string, phones: readonly string[]): Promise<RegisteredContact[]> {
    await this.db.transaction(async (tx) => {
      await tx.query(`DELETE FROM contacts WHERE owner_id = $1`, [ownerId]);
      if (phones.length) {
        await tx.query(
          `INSERT INTO contacts (owner_id, phone) SELECT $1, p FROM unnest($2::text[]) AS p
             ON CONFLICT DO NOTHING`,
          [ownerId, [...new Set(phones)]],
        );
      }
    });
    return this.listContacts(ownerId);
  }

  async listContacts(ownerId: string): Promise<RegisteredContact[]> {
    const rows = await this.db.query<{ id: string; phone: string; display_name: string }>(
      `SELECT u.id, u.phone, u.display_name FROM contacts c JOIN users u ON u.phone = c.phone
        WHERE c.owner_id = $1 AND u.id <> $1 ORDER BY u.display_name, u.phone`,
      [ownerId],
    );
    return rows.map((r) => ({ userId: r.id, phone: r.phone, displayName: r.display_name }));
  }

  async ownersWithInContacts(ownerIds: readonly string[], otherId: string): Promise<Set<string>> {
    if (!ownerIds.length) return new Set();
    const rows = await this.db.query<{ owner_id: string }>(
      `SELECT DISTINCT c.owner_id FROM contacts c JOIN users u ON u.phone = c.phone
        WHERE c.owner_id = ANY($1::uuid[]) AND u.id = $2`,
      [[...ownerIds], otherId],
    );
    return new Set(rows.map((r) => r.owner_id));
  }

  async blockersAmong(candidateIds: readonly string[], blockedId: string): Promise<Set<string>> {
    if (!candidateIds.length) return new Set();
    const rows = await this.db.query<{ blocker_id: string }>(
      `SELECT blocker_id FROM blocks WHERE blocker_id = ANY($1::uuid[]) AND blocked_id = $2`,
      [[...candidateIds], blockedId],
    );
    return new Set(rows.map((r) => r.blocker_id));
  }

  async hasInContacts(ownerId: string, otherId: string): Promise<boolean> {
    const rows = await this.db.query(
      `SELECT 1 FROM contacts c JOIN users u ON u.phone = c.phone WHERE c.owner_id = $1 AND u.id = $2`,
      [ownerId, otherId],
    );
    return rows.length > 0;
  }

  async block(blockerId: string, blockedId: string): Promise<void> {
    await this.db.query(
      `INSERT INTO blocks (blocker_id, blocked_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
      [blockerId, blockedId],
    );
  }

  async unblock(blockerId: string, blockedId: string): Promise<void> {
    await this.db.query(`DELETE FROM blocks WHERE blocker_id = $1 AND blocked_id = $2`, [
      blockerId,
      blockedId,
    ]);
  }

  async isBlocked(blockerId: string, blockedId: string): Promise<boolean> {
    const rows = await this.db.query(
      `SELECT 1 FROM blocks WHERE blocker_id = $1 AND blocked_id = $2`,
      [blockerId, blockedId],
    );
    return rows.length > 0;
  }

  async listBlocked(blockerId: string): Promise<string[]> {
    const rows = await this.db.query<{ blocked_id: string }>(
      `SELECT blocked_id FROM blocks WHERE blocker_id = $1 ORDER BY created_at`,
      [blockerId],
    );
    return rows.map((r) => r.blocked_id);
  }

  async setBanned(id: string, banned: boolean): Promise<boolean> {
    // A repeated ban keeps the time of the first.
    const rows = await this.db.query(
      `UPDATE users SET banned_at = CASE WHEN $2 THEN COALESCE(banned_at, now()) END
        WHERE id = $1 RETURNING id`,
      [id, banned],
    );
    return rows.length === 1;
  }

  async isPhoneBanned(phone: string): Promise<boolean> {
    const rows = await this.db.query(
      `SELECT 1 FROM users WHERE phone = $1 AND banned_at IS NOT NULL`,
      [phone],
    );
    return rows.length > 0;
  }

  async contactPhones(ownerId: string): Promise<string[]> {
    const rows = await this.db.query<{ phone: string }>(
      `SELECT phone FROM contacts WHERE owner_id = $1 ORDER BY phone`,
      [ownerId],
    );
    return rows.map((r) => r.phone);
  }

  async deleteAccount(id: string): Promise<{ photoMediaId: string | null } | undefined> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query<{ photo_media_id: string | null }>(
        `SELECT photo_media_id FROM users WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`,
        [id],
      );
      if (!row) return undefined;
      await tx.query(`DELETE FROM contacts WHERE owner_id = $1`, [id]);
      await tx.query(`DELETE FROM blocks WHERE blocker_id = $1 OR blocked_id = $1`, [id]);
      // The phone is freed (it can register anew); nobody can add the account to a group.
      await tx.query(
        `UPDATE users SET phone = 'deleted:' || id::text, display_name = $2, about = '',
                photo_media_id = NULL, last_seen_at = NULL, last_seen_privacy = 'nobody',
                read_receipts = false, group_add_privacy = 'nobody',
                deleted_at = now(), updated_at = now()
          WHERE id = $1`,
        [id, DELETED_ACCOUNT_NAME],
      );
      return { photoMediaId: row.photo_media_id };
    });
  }
}
