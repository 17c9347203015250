import { Injectable } from '@nestjs/common';
import type { AuthContext } from '../../common/auth/auth-context';
import { AuthService } from '../auth/auth.service';
import { PinService } from '../auth/pin.service';
import { ChatService } from '../chat/chat.service';
import { GroupsService } from '../groups/groups.service';
import { toOwnProfile, UsersService, type OwnProfile } from '../users/users.service';

export interface AccountExport {
  exportedAt: string;
  profile: OwnProfile;
  twoStepPin: boolean;
  /** The address book as uploaded (PUT /contacts), registered or not. */
  contacts: string[];
  blocked: string[];
  groups: Array<{ id: string; name: string | null; memberCount: number; left: boolean }>;
  devices: Array<{
    id: string;
    name: string;
    platform: string;
    createdAt: string;
    lastActiveAt: string;
  }>;
}

/**
 * A user's own account as a whole: deleting it, exporting it. Each part is removed or read
 * through the module that owns it.
 */
@Injectable()
export class AccountService {
  constructor(
    private readonly auth: AuthService,
    private readonly pins: PinService,
    private readonly users: UsersService,
    private readonly chat: ChatService,
    private readonly groups: GroupsService,
  ) {}

  /**
   * Deletes the account at once: sessions end everywhere (push registrations go with the
   * devices), it leaves its groups (with their system messages), its PIN, contacts, blocks
   * and profile go and its phone is freed. Its messages stay in others' histories.
   */
  async delete(caller: AuthContext, code: string, clientIp: string): Promise<void> {
    await this.auth.confirmFreshCode(caller, code, clientIp);
    await this.auth.endAllSessions(caller.userId, 'account_deleted');
    for (const c of await this.chat.listConversations(caller.userId)) {
      if (c.type === 'group' && !c.left)
        await this.groups.removeMember(caller, c.id, caller.userId);
    }
    await this.pins.remove(caller.userId);
    await this.users.deleteAccount(caller.userId);
  }

  /** Everything the server keeps about the user except messages (bodies may be ciphertext). */
  async export(userId: string): Promise<AccountExport> {
    const [user, twoStepPin, contacts, blocked, conversations, devices] = await Promise.all([
      this.users.get(userId),
      this.pins.isSet(userId),
      this.users.contactPhones(userId),
      this.users.listBlocked(userId),
      this.chat.listConversations(userId),
      this.auth.listDevices(userId),
    ]);
    return {
      exportedAt: new Date().toISOString(),
      profile: toOwnProfile(user),
      twoStepPin,
      contacts,
      blocked,
      groups: conversations
        .filter((c) => c.type === 'group')
        .map((c) => ({ id: c.id, name: c.name, memberCount: c.memberCount, left: c.left })),
      devices: devices.map((d) => ({
        id: d.id,
        name: d.name,
        platform: d.platform,
        createdAt: d.createdAt.toISOString(),
        lastActiveAt: d.lastActiveAt.toISOString(),
      })),
    };
  }
}
