import { Injectable } from '@nestjs/common';
import { uuidv7 } from 'uuidv7';
import { AppConfig } from '../../common/config/app-config';
import { AppError } from '../../common/errors';
import { RateLimiter } from '../../common/rate-limit/rate-limiter';
import { DomainEvents } from '../../common/events/domain-events';
import { MediaService } from '../media/media.service';
import type { MediaRecord } from '../media/domain/media';
import { BlockCache } from './block-cache';
import type { User } from './domain/user';
import {
  UserRepository,
  type PrivacySettings,
  type ProfilePatch,
  type RegisteredContact,
} from './ports/user.repository';

const HOUR_MS = 3_600_000;
/** Contact uploads up to this many phones (a delta of new contacts) are never limited. */
export const CONTACT_SMALL_UPLOAD = 100;

export interface PublicProfile {
  id: string;
  displayName: string;
  about: string;
  /** Path of the profile photo under the REST base (needs the bearer token), or null. */
  photoUrl: string | null;
}

/** Where a user's profile photo is served; the path changes with the photo, for caches. */
export const photoUrl = (user: User): string | null =>
  user.photoMediaId ? `/api/v1/users/${user.id}/photo?v=${user.photoMediaId}` : null;

export interface OwnProfile extends PublicProfile {
  phone: string;
  privacy: PrivacySettings;
  createdAt: string;
}

export function toOwnProfile(user: User): OwnProfile {
  return {
    id: user.id,
    phone: user.phone,
    displayName: user.displayName,
    about: user.about,
    photoUrl: photoUrl(user),
    privacy: {
      lastSeen: user.lastSeenPrivacy,
      readReceipts: user.readReceipts,
      groupAdd: user.groupAddPrivacy,
    },
    createdAt: user.createdAt.toISOString(),
  };
}

@Injectable()
export class UsersService {
  constructor(
    private readonly users: UserRepository,
    private readonly events: DomainEvents,
    private readonly blocks: BlockCache,
    private readonly media: MediaService,
    private readonly limiter: RateLimiter,
    private readonly config: AppConfig,
  ) {}

  findOrCreateByPhone(phone: string): Promise<{ user: User; created: boolean }> {
    return this.users.findOrCreateByPhone(uuidv7(), phone);
  }

  async get(id: string): Promise<User> {
    const user = await this.users.findById(id);
    if (!user) throw AppError.notFound('User');
    return user;
  }

  findMany(ids: readonly string[]): Promise<User[]> {
    return this.users.findManyByIds(ids);
  }

  /** A user that exists and was not deleted. */
  async exists(id: string): Promise<boolean> {
    const user = await this.users.findById(id);
    return user !== null && user.deletedAt === null;
  }

  async updateProfile(id: string, patch: ProfilePatch): Promise<User> {
    const user = await this.users.updateProfile(id, patch);
    if (!user) throw AppError.notFound('User');
    return user;
  }

  async updatePrivacy(id: string, privacy: PrivacySettings): Promise<User> {
    const user = await this.users.updatePrivacy(id, privacy);
    if (!user) throw AppError.notFound('User');
    await this.events.publish('user.privacy.changed', {
      userId: id,
      readReceipts: user.readReceipts,
      lastSeen: user.lastSeenPrivacy,
    });
    return user;
  }

  /** A user's profile as the viewer sees it: no photo from someone who blocked the viewer. */
  async profileFor(viewerId: string, id: string): Promise<PublicProfile> {
    const user = await this.get(id);
    const hidden = id !== viewerId && (await this.isBlocked(id, viewerId));
    return {
      id: user.id,
      displayName: user.displayName,
      about: user.about,
      photoUrl: hidden ? null : photoUrl(user),
    };
  }

  /** Makes an image the user uploaded their profile photo (VALIDATION_FAILED otherwise). */
  async setPhoto(id: string, mediaId: string): Promise<User> {
    const pictureId = await this.media.adoptPicture(id, mediaId);
    await this.replacePhoto(id, pictureId);
    return this.get(id);
  }

  async removePhoto(id: string): Promise<void> {
    await this.replacePhoto(id, null);
  }

  private async replacePhoto(id: string, pictureId: string | null): Promise<void> {
    const replaced = await this.users.setPhoto(id, pictureId);
    if (!replaced) {
      if (pictureId) await this.media.releasePicture(pictureId);
      throw AppError.notFound('User');
    }
    if (replaced.previous) await this.media.releasePicture(replaced.previous);
  }

  /**
   * The photo to serve to the viewer: NOT_FOUND when there is none, or when its owner
   * blocked the viewer (who cannot tell the two apart).
   */
  async photoFor(viewerId: string, id: string): Promise<MediaRecord> {
    const user = await this.users.findById(id);
    if (!user?.photoMediaId || (id !== viewerId && (await this.isBlocked(id, viewerId)))) {
      throw AppError.notFound('Photo');
    }
    return this.media.openPicture(user.photoMediaId);
  }

  setLastSeen(id: string, at: Date): Promise<void> {
    return this.users.setLastSeen(id, at);
  }

  /**
   * Replaces the address book. Uploads of more than CONTACT_SMALL_UPLOAD phones are limited
   * per hour (CONTACT_UPLOADS_PER_HOUR): one full sync an hour, deltas beyond it, so nobody
   * walks the phone-number space to learn who is registered.
   */
  async replaceContacts(ownerId: string, phones: readonly string[]): Promise<RegisteredContact[]> {
    const limit = this.config.safety.contactUploadsPerHour;
    if (limit > 0 && new Set(phones).size > CONTACT_SMALL_UPLOAD) {
      const decision = await this.limiter.consume(`contacts:${ownerId}`, limit, HOUR_MS);
      if (!decision.allowed)
        throw AppError.rateLimited(
          decision.retryAfterMs,
          `At most ${limit} uploads of more than ${CONTACT_SMALL_UPLOAD} contacts per hour`,
        );
    }
    const contacts = await this.users.replaceContacts(ownerId, phones);
    await this.events.publish('user.relations.changed', { userId: ownerId });
    return contacts;
  }

  listContacts(ownerId: string): Promise<RegisteredContact[]> {
    return this.users.listContacts(ownerId);
  }

  hasInContacts(ownerId: string, otherId: string): Promise<boolean> {
    return this.users.hasInContacts(ownerId, otherId);
  }

  async block(blockerId: string, blockedId: string): Promise<void> {
    if (blockerId === blockedId) throw AppError.validation('You cannot block yourself');
    await this.get(blockedId);
    await this.users.block(blockerId, blockedId);
    await this.blocks.changed(blockerId);
    await this.events.publish('user.relations.changed', { userId: blockerId });
  }

  async unblock(blockerId: string, blockedId: string): Promise<void> {
    await this.get(blockedId);
    await this.users.unblock(blockerId, blockedId);
    await this.blocks.changed(blockerId);
    await this.events.publish('user.relations.changed', { userId: blockerId });
  }

  /**
   * Of the users someone wants to add to a group, those who do not let them: they blocked
   * the adder, or their `groupAdd` setting refuses them. Blocks come first in the reason.
   */
  async groupAddRefusals(
    adderId: string,
    targets: readonly User[],
  ): Promise<Array<{ userId: string; reason: 'privacy' | 'blocked' }>> {
    if (!targets.length) return [];
    const ids = targets.map((u) => u.id);
    const blockers = await this.users.blockersAmong(ids, adderId);
    const contactsOnly = targets.filter(
      (u) => u.groupAddPrivacy === 'contacts' && !blockers.has(u.id),
    );
    const knowAdder = await this.users.ownersWithInContacts(
      contactsOnly.map((u) => u.id),
      adderId,
    );
    const refusals: Array<{ userId: string; reason: 'privacy' | 'blocked' }> = [];
    for (const u of targets) {
      if (blockers.has(u.id)) refusals.push({ userId: u.id, reason: 'blocked' });
      else if (
        u.groupAddPrivacy === 'nobody' ||
        (u.groupAddPrivacy === 'contacts' && !knowAdder.has(u.id))
      )
        refusals.push({ userId: u.id, reason: 'privacy' });
    }
    return refusals;
  }

  /** Cached: on the send path of every direct message. */
  isBlocked(blockerId: string, blockedId: string): Promise<boolean> {
    return this.blocks.isBlocked(blockerId, blockedId);
  }

  listBlocked(blockerId: string): Promise<string[]> {
    return this.users.listBlocked(blockerId);
  }

  async setBanned(id: string, banned: boolean): Promise<void> {
    if (!(await this.users.setBanned(id, banned))) throw AppError.notFound('User');
  }

  contactPhones(ownerId: string): Promise<string[]> {
    return this.users.contactPhones(ownerId);
  }

  /** Deletes the account's personal data (see UserRepository.deleteAccount) and its photo. */
  async deleteAccount(id: string): Promise<void> {
    const deleted = await this.users.deleteAccount(id);
    if (!deleted) throw AppError.notFound('User');
    if (deleted.photoMediaId) await this.media.releasePicture(deleted.photoMediaId);
    await this.blocks.changed(id);
  }

  isPhoneBanned(phone: string): Promise<boolean> {
    return this.users.isPhoneBanned(phone);
  }
}
