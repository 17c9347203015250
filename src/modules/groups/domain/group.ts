import type { MemberRole } from '../../chat/domain/conversation';

export const MAX_GROUP_MEMBERS = 1024;

export interface GroupSettings {
  onlyAdminsCanSend: boolean;
  onlyAdminsCanEditInfo: boolean;
}

export interface GroupMember {
  userId: string;
  role: MemberRole;
  joinedAt: Date;
}

export interface Group {
  id: string;
  name: string;
  description: string;
  createdBy: string;
  memberCount: number;
  settings: GroupSettings;
  /** The media id of the group icon (a picture of an uploaded image), if any. */
  iconMediaId: string | null;
  createdAt: Date;
}

/** What a group edit may change: its info, its icon (a picture id or null) and settings. */
export type GroupPatch = {
  name?: string;
  description?: string;
  iconMediaId?: string | null;
} & Partial<GroupSettings>;

export const isAdmin = (role: MemberRole | undefined): boolean =>
  role === 'creator' || role === 'admin';

/** The JSON body of a group's system messages: what happened, who did it, to whom. */
export type GroupEvent =
  | { event: 'group_created'; actorId: string; userIds: string[]; name: string }
  | { event: 'members_added'; actorId: string; userIds: string[] }
  | { event: 'member_removed'; actorId: string; userIds: string[] }
  | { event: 'member_left'; actorId: string; userIds: string[] }
  | { event: 'role_changed'; actorId: string; userIds: string[]; role: 'admin' | 'member' }
  | { event: 'admin_assigned'; actorId: null; userIds: string[]; reason: 'last_admin_left' }
  | { event: 'group_renamed'; actorId: string; userIds: []; name: string }
  | { event: 'description_changed'; actorId: string; userIds: []; description: string }
  | { event: 'icon_changed'; actorId: string; userIds: []; hasIcon: boolean }
  | { event: 'settings_changed'; actorId: string; userIds: []; settings: Partial<GroupSettings> };
