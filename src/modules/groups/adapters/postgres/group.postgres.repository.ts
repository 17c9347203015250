import { Injectable } from '@nestjs/common';
import { uuidv7 } from 'uuidv7';
import { Db, type SqlRunner } from '../../../../common/database/db';
import type { MemberRole } from '../../../chat/domain/conversation';
import { systemMessage, type StoredMessage } from '../../../chat/domain/message';
import type { Group, GroupEvent, GroupMember, GroupPatch, GroupSettings } from '../../domain/group';
import {
  GroupNotFound,
  GroupRepository,
  LastAdmin,
  NotGroupMember,
  type Actor,
  type AddOutcome,
  type ChangeResult,
} from '../../ports/group.repository';

interface GroupRow {
  id: string;
  name: string | null;
  description: string;
  created_by: string;
  member_count: number;
  only_admins_can_send: boolean;
  only_admins_can_edit_info: boolean;
  icon_media_id: string | null;
  created_at: Date;
  last_seq: number;
}

const groupCols = `c.id, c.name, c.description, c.created_by, c.member_count, c.only_admins_can_send,
  c.only_admins_can_edit_info, c.icon_media_id, c.created_at, c.last_seq`;

function toGroup(r: GroupRow): Group {
  return {
    id: r.id,
    name: r.name ?? '',
    description: r.description,
    createdBy: r.created_by,
    memberCount: r.member_count,
    settings: {
      onlyAdminsCanSend: r.only_admins_can_send,
      onlyAdminsCanEditInfo: r.only_admins_can_edit_info,
    },
    iconMediaId: r.icon_media_id,
    createdAt: r.created_at,
  };
}

interface MemberRow {
  user_id: string;
  role: MemberRole;
  joined_at: Date;
}

const toMember = (r: MemberRow): GroupMember => ({
  userId: r.user_id,
  role: r.role,
  joinedAt: r.joined_at,
});

@Injectable()
export class GroupPostgresRepository extends GroupRepository {
  constructor(private readonly db: Db) {
    super();
  }

  async create(input: {
    id: string;
    actor: Actor;
    name: string;
    description: string;
    memberIds: readonly string[];
  }): Promise<ChangeResult> {
    const others = input.memberIds.filter((id) => id !== input.actor.userId);
    return this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO conversations (id, type, name, description, created_by, member_count)
         VALUES ($1, 'group', $2, $3, $4, $5)`,
        [input.id, input.name, input.description, input.actor.userId, others.length + 1],
      );
      await tx.query(
        `INSERT INTO conversation_members (conversation_id, user_id, role, joined_at)
         SELECT $1, u, CASE WHEN u = $2 THEN 'creator' ELSE 'member' END, now() + (o * interval '1 microsecond')
           FROM unnest($3::uuid[]) WITH ORDINALITY AS t(u, o)`,
        [input.id, input.actor.userId, [input.actor.userId, ...others]],
      );
      const events = await this.appendSystem(tx, input.id, input.actor, [
        { event: 'group_created', actorId: input.actor.userId, userIds: others, name: input.name },
      ]);
      return { group: (await this.lock(tx, input.id))!, events };
    });
  }

  async find(groupId: string): Promise<Group | null> {
    const [row] = await this.db.query<GroupRow>(
      `SELECT ${groupCols} FROM conversations c WHERE c.id = $1 AND c.type = 'group'`,
      [groupId],
    );
    return row ? toGroup(row) : null;
  }

  async members(groupId: string): Promise<GroupMember[]> {
    const rows = await this.db.query<MemberRow>(
      `SELECT user_id, role, joined_at FROM conversation_members
        WHERE conversation_id = $1 AND left_seq IS NULL ORDER BY joined_at, user_id`,
      [groupId],
    );
    return rows.map(toMember);
  }

  async membersPage(
    groupId: string,
    afterUserId: string | null,
    limit: number,
  ): Promise<GroupMember[]> {
    const rows = await this.db.query<MemberRow>(
      `SELECT user_id, role, joined_at FROM conversation_members
        WHERE conversation_id = $1 AND left_seq IS NULL AND ($2::uuid IS NULL OR user_id > $2::uuid)
        ORDER BY user_id LIMIT $3`,
      [groupId, afterUserId, limit],
    );
    return rows.map(toMember);
  }

  async activeRole(groupId: string, userId: string): Promise<MemberRole | null> {
    const [row] = await this.db.query<{ role: MemberRole }>(
      `SELECT role FROM conversation_members WHERE conversation_id = $1 AND user_id = $2 AND left_seq IS NULL`,
      [groupId, userId],
    );
    return row?.role ?? null;
  }

  async addMembers(
    groupId: string,
    actor: Actor,
    userIds: readonly string[],
    cap: number,
  ): Promise<AddOutcome> {
    return this.db.transaction(async (tx) => {
      const group = await this.lock(tx, groupId);
      if (!group) throw new GroupNotFound();
      const active = await tx.query<{ user_id: string }>(
        `SELECT user_id FROM conversation_members
          WHERE conversation_id = $1 AND user_id = ANY($2::uuid[]) AND left_seq IS NULL`,
        [groupId, userIds],
      );
      const already = new Set(active.map((r) => r.user_id));
      const fresh = [...new Set(userIds)].filter((id) => !already.has(id));
      if (!fresh.length) return { group, events: [] };
      if (group.memberCount + fresh.length > cap)
        return { full: true, memberCount: group.memberCount };
      const [{ last_seq: lastSeq }] = (await tx.query<{ last_seq: number }>(
        `SELECT last_seq FROM conversations WHERE id = $1`,
        [groupId],
      )) as [{ last_seq: number }];
      // New members see history from the system message announcing them (seq lastSeq + 1).
      await tx.query(
        `INSERT INTO conversation_members AS m (conversation_id, user_id, role, joined_at, joined_seq,
                                                delivered_seq, read_seq)
         SELECT $1, u, 'member', now(), $3, $3, $3 FROM unnest($2::uuid[]) AS u
         ON CONFLICT (conversation_id, user_id) DO UPDATE SET
           role = 'member', joined_at = now(), joined_seq = $3, left_seq = NULL, left_at = NULL,
           left_name = NULL, left_member_count = NULL,
           delivered_seq = GREATEST(m.delivered_seq, $3), read_seq = GREATEST(m.read_seq, $3)`,
        [groupId, fresh, lastSeq],
      );
      await tx.query(
        `UPDATE conversations SET member_count = member_count + $2, members_version = members_version + 1 WHERE id = $1`,
        [groupId, fresh.length],
      );
      const events = await this.appendSystem(tx, groupId, actor, [
        { event: 'members_added', actorId: actor.userId, userIds: fresh },
      ]);
      return { group: (await this.lock(tx, groupId))!, events };
    });
  }

  async removeMember(groupId: string, actor: Actor, userId: string): Promise<ChangeResult> {
    return this.db.transaction(async (tx) => {
      const group = await this.lock(tx, groupId);
      if (!group) throw new GroupNotFound();
      const leaving = actor.userId === userId;
      const drafts: GroupEvent[] = [
        leaving
          ? { event: 'member_left', actorId: actor.userId, userIds: [userId] }
          : { event: 'member_removed', actorId: actor.userId, userIds: [userId] },
      ];
      const events = await this.appendSystem(tx, groupId, actor, drafts);
      // The removed member still sees the message announcing the removal, and nothing after.
      const ended = await tx.query(
        `UPDATE conversation_members SET left_seq = $3, left_at = now(), role = 'member',
             left_name = (SELECT name FROM conversations WHERE id = $1),
             left_member_count = (SELECT member_count - 1 FROM conversations WHERE id = $1)
          WHERE conversation_id = $1 AND user_id = $2 AND left_seq IS NULL RETURNING user_id`,
        [groupId, userId, events[0].seq],
      );
      if (!ended.length) throw new NotGroupMember();
      await tx.query(
        `UPDATE conversations SET member_count = member_count - 1, members_version = members_version + 1 WHERE id = $1`,
        [groupId],
      );
      const admins = await tx.query(
        `SELECT 1 FROM conversation_members
          WHERE conversation_id = $1 AND left_seq IS NULL AND role IN ('creator', 'admin') LIMIT 1`,
        [groupId],
      );
      if (!admins.length) {
        const [heir] = await tx.query<{ user_id: string }>(
          `UPDATE conversation_members SET role = 'admin'
            WHERE conversation_id = $1 AND user_id = (
              SELECT user_id FROM conversation_members WHERE conversation_id = $1 AND left_seq IS NULL
               ORDER BY joined_at, user_id LIMIT 1)
            RETURNING user_id`,
          [groupId],
        );
        if (heir) {
          events.push(
            ...(await this.appendSystem(tx, groupId, actor, [
              {
                event: 'admin_assigned',
                actorId: null,
                userIds: [heir.user_id],
                reason: 'last_admin_left',
              },
            ])),
          );
        }
      }
      return { group: (await this.lock(tx, groupId))!, events };
    });
  }

  async setRole(
    groupId: string,
    actor: Actor,
    userId: string,
    role: 'admin' | 'member',
  ): Promise<ChangeResult> {
    return this.db.transaction(async (tx) => {
      const group = await this.lock(tx, groupId);
      if (!group) throw new GroupNotFound();
      const changed = await tx.query<{ user_id: string }>(
        `UPDATE conversation_members SET role = $3
          WHERE conversation_id = $1 AND user_id = $2 AND left_seq IS NULL AND role <> 'creator' AND role <> $3
          RETURNING user_id`,
        [groupId, userId, role],
      );
      if (!changed.length) return { group, events: [] };
      const events = await this.appendSystem(tx, groupId, actor, [
        { event: 'role_changed', actorId: actor.userId, userIds: [userId], role },
      ]);
      const admins = await tx.query(
        `SELECT 1 FROM conversation_members
          WHERE conversation_id = $1 AND left_seq IS NULL AND role IN ('creator', 'admin') LIMIT 1`,
        [groupId],
      );
      // A group always keeps an admin: the last one cannot step down (the transaction rolls back).
      if (!admins.length) throw new LastAdmin();
      return { group, events };
    });
  }

  async update(groupId: string, actor: Actor, patch: GroupPatch): Promise<ChangeResult> {
    return this.db.transaction(async (tx) => {
      const group = await this.lock(tx, groupId);
      if (!group) throw new GroupNotFound();
      const drafts: GroupEvent[] = [];
      if (patch.name !== undefined && patch.name !== group.name) {
        drafts.push({
          event: 'group_renamed',
          actorId: actor.userId,
          userIds: [],
          name: patch.name,
        });
      }
      if (patch.description !== undefined && patch.description !== group.description) {
        drafts.push({
          event: 'description_changed',
          actorId: actor.userId,
          userIds: [],
          description: patch.description,
        });
      }
      const changesIcon =
        patch.iconMediaId !== undefined && patch.iconMediaId !== group.iconMediaId;
      if (changesIcon) {
        drafts.push({
          event: 'icon_changed',
          actorId: actor.userId,
          userIds: [],
          hasIcon: patch.iconMediaId !== null,
        });
      }
      const settings: Partial<GroupSettings> = {};
      if (
        patch.onlyAdminsCanSend !== undefined &&
        patch.onlyAdminsCanSend !== group.settings.onlyAdminsCanSend
      ) {
        settings.onlyAdminsCanSend = patch.onlyAdminsCanSend;
      }
      if (
        patch.onlyAdminsCanEditInfo !== undefined &&
        patch.onlyAdminsCanEditInfo !== group.settings.onlyAdminsCanEditInfo
      ) {
        settings.onlyAdminsCanEditInfo = patch.onlyAdminsCanEditInfo;
      }
      if (Object.keys(settings).length) {
        drafts.push({ event: 'settings_changed', actorId: actor.userId, userIds: [], settings });
      }
      if (!drafts.length) return { group, events: [] };
      await tx.query(
        `UPDATE conversations SET name = COALESCE($2, name), description = COALESCE($3, description),
           only_admins_can_send = COALESCE($4, only_admins_can_send),
           only_admins_can_edit_info = COALESCE($5, only_admins_can_edit_info),
           icon_media_id = CASE WHEN $6 THEN $7::uuid ELSE icon_media_id END
         WHERE id = $1`,
        [
          groupId,
          patch.name ?? null,
          patch.description ?? null,
          patch.onlyAdminsCanSend ?? null,
          patch.onlyAdminsCanEditInfo ?? null,
          changesIcon,
          patch.iconMediaId ?? null,
        ],
      );
      const events = await this.appendSystem(tx, groupId, actor, drafts);
      return { group: (await this.lock(tx, groupId))!, events };
    });
  }

  private async lock(tx: SqlRunner, groupId: string): Promise<Group | null> {
    const [row] = await tx.query<GroupRow>(
      `SELECT ${groupCols} FROM conversations c WHERE c.id = $1 AND c.type = 'group' FOR UPDATE`,
      [groupId],
    );
    return row ? toGroup(row) : null;
  }

  /** Appends system messages inside the change's transaction, after the rows it locked. */
  private async appendSystem(
    tx: SqlRunner,
    groupId: string,
    actor: Actor,
    drafts: GroupEvent[],
  ): Promise<StoredMessage[]> {
    const [{ last_seq: lastSeq }] = (await tx.query<{ last_seq: number }>(
      `UPDATE conversations SET last_seq = last_seq + $2, last_message_at = now() WHERE id = $1 RETURNING last_seq`,
      [groupId, drafts.length],
    )) as [{ last_seq: number }];
    const now = new Date();
    const messages: StoredMessage[] = drafts.map((event, i) =>
      systemMessage({
        id: uuidv7(),
        conversationId: groupId,
        seq: lastSeq - drafts.length + 1 + i,
        actor,
        event,
        createdAt: now,
      }),
    );
    await tx.query(
      `INSERT INTO messages (id, conversation_id, seq, sender_id, sender_device_id, client_msg_id, type, body, created_at)
       SELECT id, $1, seq, $2, $3, cmid, 'system', body, $4
         FROM unnest($5::uuid[], $6::bigint[], $7::text[], $8::text[]) AS t(id, seq, cmid, body)`,
      [
        groupId,
        actor.userId,
        actor.deviceId,
        now,
        messages.map((m) => m.id),
        messages.map((m) => m.seq),
        messages.map((m) => m.clientMsgId),
        messages.map((m) => m.body),
      ],
    );
    return messages;
  }
}
