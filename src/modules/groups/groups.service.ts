import { Injectable } from '@nestjs/common';
import { uuidv7 } from 'uuidv7';
import { AppConfig } from '../../common/config/app-config';
import { RateLimiter } from '../../common/rate-limit/rate-limiter';
import type { AuthContext } from '../../common/auth/auth-context';
import { AppError, ErrorCode } from '../../common/errors';
import { RealtimeEmitter } from '../../common/realtime/realtime.emitter';
import { toMessageView } from '../chat/domain/message';
import type { MemberRole } from '../chat/domain/conversation';
import type { MediaRecord } from '../media/domain/media';
import { MediaService } from '../media/media.service';
import { UsersService } from '../users/users.service';
import {
  isAdmin,
  MAX_GROUP_MEMBERS,
  type Group,
  type GroupMember,
  type GroupPatch,
  type GroupSettings,
} from './domain/group';
import {
  GroupNotFound,
  GroupRepository,
  LastAdmin,
  NotGroupMember,
  type ChangeResult,
} from './ports/group.repository';

export interface GroupView {
  id: string;
  name: string;
  description: string;
  createdBy: string;
  memberCount: number;
  settings: GroupSettings;
  /** Path of the group icon under the REST base (needs the bearer token), or null. */
  iconUrl: string | null;
  members: Array<{ userId: string; role: MemberRole }>;
  createdAt: string;
}

/** Where a group's icon is served; the path changes with the icon, for caches. */
export const iconUrl = (group: Group): string | null =>
  group.iconMediaId ? `/api/v1/groups/${group.id}/icon?v=${group.iconMediaId}` : null;

export interface NotAdded {
  userId: string;
  reason: 'privacy' | 'blocked';
}

/** The answer to an add: the group, and who was left out because they do not consent. */
export interface GroupAddView extends GroupView {
  notAdded: NotAdded[];
}

const adminOnly = (what: string) =>
  new AppError(ErrorCode.ADMIN_ONLY, `Only group admins can ${what}`);

@Injectable()
export class GroupsService {
  constructor(
    private readonly groups: GroupRepository,
    private readonly users: UsersService,
    private readonly realtime: RealtimeEmitter,
    private readonly media: MediaService,
    private readonly limiter: RateLimiter,
    private readonly config: AppConfig,
  ) {}

  async create(
    auth: AuthContext,
    input: { name: string; description?: string; memberIds: string[] },
  ): Promise<GroupAddView> {
    const wanted = [...new Set(input.memberIds)].filter((id) => id !== auth.userId);
    if (wanted.length + 1 > MAX_GROUP_MEMBERS) {
      throw new AppError(
        ErrorCode.GROUP_FULL,
        `A group has at most ${MAX_GROUP_MEMBERS} members, creator included`,
      );
    }
    const limit = this.config.safety.groupsPerUserPerHour;
    if (limit > 0) {
      const decision = await this.limiter.consume(`groups:${auth.userId}`, limit, 3_600_000);
      if (!decision.allowed)
        throw AppError.rateLimited(decision.retryAfterMs, `At most ${limit} new groups per hour`);
    }
    const { consenting, notAdded } = await this.consentOf(auth.userId, wanted);
    const result = await this.groups.create({
      id: uuidv7(),
      actor: auth,
      name: input.name,
      description: input.description ?? '',
      memberIds: consenting,
    });
    return { ...(await this.publish(result)), notAdded };
  }

  async get(auth: AuthContext, groupId: string): Promise<GroupView> {
    await this.requireRole(groupId, auth.userId);
    const group = await this.groups.find(groupId);
    return this.view(group!, await this.groups.members(groupId));
  }

  async membersPage(
    auth: AuthContext,
    groupId: string,
    cursor: string | undefined,
    limit = 100,
  ): Promise<{ members: Array<{ userId: string; role: MemberRole }>; nextCursor: string | null }> {
    await this.requireRole(groupId, auth.userId);
    const page = await this.groups.membersPage(groupId, cursor ?? null, limit + 1);
    const members = page.slice(0, limit).map((m) => ({ userId: m.userId, role: m.role }));
    return {
      members,
      nextCursor: page.length > limit ? members[members.length - 1].userId : null,
    };
  }

  async update(auth: AuthContext, groupId: string, patch: GroupPatch): Promise<GroupView> {
    const role = await this.requireRole(groupId, auth.userId);
    const group = (await this.groups.find(groupId))!;
    const changesSettings =
      patch.onlyAdminsCanSend !== undefined || patch.onlyAdminsCanEditInfo !== undefined;
    const changesInfo =
      patch.name !== undefined ||
      patch.description !== undefined ||
      patch.iconMediaId !== undefined;
    if (changesSettings && !isAdmin(role)) throw adminOnly('change group settings');
    if (changesInfo && group.settings.onlyAdminsCanEditInfo && !isAdmin(role))
      throw adminOnly('edit group info');
    // The icon is a picture of its own, so the upload's fate (a disappearing chat) is not the icon's.
    const icon =
      patch.iconMediaId && patch.iconMediaId !== group.iconMediaId
        ? await this.media.adoptPicture(auth.userId, patch.iconMediaId)
        : undefined;
    let result: ChangeResult;
    try {
      result = await this.run(() =>
        this.groups.update(groupId, auth, {
          ...patch,
          iconMediaId: icon ?? (patch.iconMediaId === null ? null : undefined),
        }),
      );
    } catch (error) {
      if (icon) await this.media.releasePicture(icon);
      throw error;
    }
    const replaced = group.iconMediaId;
    if (replaced && result.group.iconMediaId !== replaced)
      await this.media.releasePicture(replaced);
    return this.publish(result);
  }

  /** The icon to serve to a member: NOT_FOUND when the group has none. */
  async iconFor(auth: AuthContext, groupId: string): Promise<MediaRecord> {
    await this.requireRole(groupId, auth.userId);
    const group = await this.groups.find(groupId);
    if (!group?.iconMediaId) throw AppError.notFound('Group icon');
    return this.media.openPicture(group.iconMediaId);
  }

  async addMembers(auth: AuthContext, groupId: string, userIds: string[]): Promise<GroupAddView> {
    const role = await this.requireRole(groupId, auth.userId);
    if (!isAdmin(role)) throw adminOnly('add members');
    const { consenting: wanted, notAdded } = await this.consentOf(auth.userId, [
      ...new Set(userIds),
    ]);
    if (!wanted.length) {
      // Nobody to add: no change, no system message.
      const group = (await this.groups.find(groupId))!;
      return { ...this.view(group, await this.groups.members(groupId)), notAdded };
    }
    const outcome = await this.run(() =>
      this.groups.addMembers(groupId, auth, wanted, MAX_GROUP_MEMBERS),
    );
    if ('full' in outcome) {
      throw new AppError(
        ErrorCode.GROUP_FULL,
        `Adding ${wanted.length} would pass ${MAX_GROUP_MEMBERS} members (the group has ${outcome.memberCount}); nobody was added`,
      );
    }
    return { ...(await this.publish(outcome)), notAdded };
  }

  /** An admin removes a member, or a member leaves (userId is themself). */
  async removeMember(auth: AuthContext, groupId: string, userId: string): Promise<void> {
    const role = await this.requireRole(groupId, auth.userId);
    if (userId !== auth.userId) {
      if (!isAdmin(role)) throw adminOnly('remove members');
      const targetRole = await this.groups.activeRole(groupId, userId);
      if (!targetRole) throw AppError.notFound('Member');
      if (targetRole === 'creator')
        throw AppError.forbidden('The group creator cannot be removed by others');
    }
    await this.publish(await this.run(() => this.groups.removeMember(groupId, auth, userId)), [
      userId,
    ]);
  }

  async setRole(
    auth: AuthContext,
    groupId: string,
    userId: string,
    role: 'admin' | 'member',
  ): Promise<GroupView> {
    const actorRole = await this.requireRole(groupId, auth.userId);
    if (!isAdmin(actorRole)) throw adminOnly('change roles');
    const targetRole = await this.groups.activeRole(groupId, userId);
    if (!targetRole) throw AppError.notFound('Member');
    if (targetRole === 'creator')
      throw AppError.forbidden('The group creator’s role cannot be changed');
    return this.publish(await this.run(() => this.groups.setRole(groupId, auth, userId, role)));
  }

  private async requireRole(groupId: string, userId: string): Promise<MemberRole> {
    const role = await this.groups.activeRole(groupId, userId);
    if (role) return role;
    if (await this.groups.find(groupId)) throw AppError.notAMember();
    throw AppError.notFound('Group');
  }

  /**
   * Splits the users to add into those who let the adder add them and those who do not
   * (blocked the adder, or their `groupAdd` setting refuses them); NOT_FOUND for unknown ids.
   */
  private async consentOf(
    adderId: string,
    ids: string[],
  ): Promise<{ consenting: string[]; notAdded: NotAdded[] }> {
    if (!ids.length) return { consenting: [], notAdded: [] };
    const users = await this.users.findMany(ids);
    const found = new Set(users.map((u) => u.id));
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length) {
      throw new AppError(ErrorCode.NOT_FOUND, `Unknown users: ${missing.slice(0, 5).join(', ')}`, {
        details: missing.map((id) => `userIds: ${id} is not a registered user`),
      });
    }
    const notAdded = await this.users.groupAddRefusals(adderId, users);
    const refused = new Set(notAdded.map((n) => n.userId));
    return { consenting: ids.filter((id) => !refused.has(id)), notAdded };
  }

  private async run<T>(change: () => Promise<T>): Promise<T> {
    try {
      return await change();
    } catch (error) {
      if (error instanceof GroupNotFound) throw AppError.notFound('Group');
      if (error instanceof NotGroupMember) throw AppError.notFound('Member');
      if (error instanceof LastAdmin) {
        throw new AppError(
          ErrorCode.CONFLICT,
          'A group needs an admin: promote someone before stepping down',
        );
      }
      throw error;
    }
  }

  /**
   * Sends the change's system messages to every member. Someone the change removed gets
   * only the first, the one announcing their removal: what follows is past their cut-off.
   */
  private async publish(result: ChangeResult, removed: string[] = []): Promise<GroupView> {
    const members = await this.groups.members(result.group.id);
    const memberIds = members.map((m) => m.userId);
    result.events.forEach((message, i) => {
      const audience = i === 0 ? [...memberIds, ...removed] : memberIds;
      this.realtime.toUsers(audience, 'message:new', toMessageView(message));
    });
    return this.view(result.group, members);
  }

  private view(group: Group, members: GroupMember[]): GroupView {
    return {
      id: group.id,
      name: group.name,
      description: group.description,
      createdBy: group.createdBy,
      memberCount: members.length,
      settings: group.settings,
      iconUrl: iconUrl(group),
      members: members.map((m) => ({ userId: m.userId, role: m.role })),
      createdAt: group.createdAt.toISOString(),
    };
  }
}
