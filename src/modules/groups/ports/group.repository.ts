import type { StoredMessage } from '../../chat/domain/message';
import type { MemberRole } from '../../chat/domain/conversation';
import type { Group, GroupEvent, GroupMember, GroupPatch } from '../domain/group';

/** Who made a change, for the system messages it appends. */
export interface Actor {
  userId: string;
  deviceId: string;
}

/** The outcome of a change: the system messages it appended (in seq order). */
export interface ChangeResult {
  group: Group;
  events: StoredMessage[];
}

export type AddOutcome = ChangeResult | { full: true; memberCount: number };

/**
 * Group state over the shared conversation tables. Each change runs in one transaction
 * with the group row locked: the membership change and its system message commit
 * together, in the group's seq order, and concurrent changes cannot pass the cap.
 */
export abstract class GroupRepository {
  abstract create(input: {
    id: string;
    actor: Actor;
    name: string;
    description: string;
    memberIds: readonly string[];
  }): Promise<ChangeResult>;
  abstract find(groupId: string): Promise<Group | null>;
  abstract members(groupId: string): Promise<GroupMember[]>;
  abstract membersPage(
    groupId: string,
    afterUserId: string | null,
    limit: number,
  ): Promise<GroupMember[]>;
  abstract activeRole(groupId: string, userId: string): Promise<MemberRole | null>;
  /** Adds users (ignoring active members); nobody is added if the cap would be passed. */
  abstract addMembers(
    groupId: string,
    actor: Actor,
    userIds: readonly string[],
    cap: number,
  ): Promise<AddOutcome>;
  /**
   * Ends a membership (removal by an admin, or leaving). If no admin remains, the
   * longest-standing member becomes admin in the same transaction.
   */
  abstract removeMember(groupId: string, actor: Actor, userId: string): Promise<ChangeResult>;
  abstract setRole(
    groupId: string,
    actor: Actor,
    userId: string,
    role: 'admin' | 'member',
  ): Promise<ChangeResult>;
  /** Changes what the patch names and differs, with one system event per kind of change. */
  abstract update(groupId: string, actor: Actor, patch: GroupPatch): Promise<ChangeResult>;
}

export type { GroupEvent };

/**
 * What the port's changes throw, in its contract so the service can tell them apart
 * whatever the adapter: the group does not exist, the user is not a member, or the change
 * would leave the group without an admin.
 */
export class GroupNotFound extends Error {}
export class NotGroupMember extends Error {}
export class LastAdmin extends Error {}
