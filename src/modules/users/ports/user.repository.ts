import type { GroupAddPrivacy, LastSeenPrivacy, User } from '../domain/user';

export interface ProfilePatch {
  displayName?: string;
  about?: string;
}

export interface PrivacySettings {
  lastSeen: LastSeenPrivacy;
  readReceipts: boolean;
  /** Left unchanged when absent (clients that predate the setting). */
  groupAdd?: GroupAddPrivacy;
}

export interface RegisteredContact {
  userId: string;
  phone: string;
  displayName: string;
}

/** Storage of users, their contacts and blocks. */
export abstract class UserRepository {
  /** Returns the user with that phone, creating it if new. */
  abstract findOrCreateByPhone(
    id: string,
    phone: string,
  ): Promise<{ user: User; created: boolean }>;
  abstract findById(id: string): Promise<User | null>;
  abstract findManyByIds(ids: readonly string[]): Promise<User[]>;
  abstract updateProfile(id: string, patch: ProfilePatch): Promise<User | null>;
  abstract updatePrivacy(id: string, privacy: PrivacySettings): Promise<User | null>;
  abstract setLastSeen(id: string, at: Date): Promise<void>;
  /**
   * Sets (or with null, removes) the profile photo; returns the photo it replaced, or
   * undefined for an unknown user.
   */
  abstract setPhoto(
    id: string,
    photoMediaId: string | null,
  ): Promise<{ previous: string | null } | undefined>;
  /** Replaces the owner's address book and returns the registered users among it. */
  abstract replaceContacts(
    ownerId: string,
    phones: readonly string[],
  ): Promise<RegisteredContact[]>;
  abstract listContacts(ownerId: string): Promise<RegisteredContact[]>;
  /** Of `ownerIds`, those who have `otherId`'s phone in their contacts. */
  abstract ownersWithInContacts(ownerIds: readonly string[], otherId: string): Promise<Set<string>>;
  /** Of `candidateIds`, those who blocked `blockedId`. */
  abstract blockersAmong(candidateIds: readonly string[], blockedId: string): Promise<Set<string>>;
  /** Whether `ownerId` has `otherId`'s phone in their contacts. */
  abstract hasInContacts(ownerId: string, otherId: string): Promise<boolean>;
  abstract block(blockerId: string, blockedId: string): Promise<void>;
  abstract unblock(blockerId: string, blockedId: string): Promise<void>;
  abstract isBlocked(blockerId: string, blockedId: string): Promise<boolean>;
  abstract listBlocked(blockerId: string): Promise<string[]>;
  /** Bans (or with false, unbans) a user; false for an unknown user. */
  abstract setBanned(id: string, banned: boolean): Promise<boolean>;
  /** The phones of the owner's address book, registered or not. */
  abstract contactPhones(ownerId: string): Promise<string[]>;
  /**
   * Deletes an account's personal data in one step: its contacts and blocks (both ways) go,
   * its phone is freed, its profile blanked (named "Deleted account"); the row stays for the
   * messages it sent. Returns the photo it had, or undefined for an unknown or deleted user.
   */
  abstract deleteAccount(id: string): Promise<{ photoMediaId: string | null } | undefined>;
  /** Whether the user registered with this phone is banned (false when none is). */
  abstract isPhoneBanned(phone: string): Promise<boolean>;
}
