import type { Platform } from '../domain/device';

/** A sign-in that passed its code and waits for the account's PIN. */
export interface PinChallenge {
  id: string;
  userId: string;
  deviceName: string;
  platform: Platform;
  expiresAt: Date;
}

/** Storage of two-step verification PINs (as hashes) and the sign-ins waiting for them. */
export abstract class PinRepository {
  /** Sets or replaces the user's PIN hash. */
  abstract setPin(userId: string, pinHash: string): Promise<void>;
  /** Removes the PIN; false when the user had none. */
  abstract removePin(userId: string): Promise<boolean>;
  abstract pinHash(userId: string): Promise<string | null>;

  abstract createChallenge(challenge: PinChallenge & { tokenHash: string }): Promise<void>;
  /** The challenge with this token hash while it is neither expired nor consumed. */
  abstract liveChallenge(tokenHash: string, now: Date): Promise<PinChallenge | null>;
  /** Marks a challenge used; false when another request consumed it first. */
  abstract consumeChallenge(id: string): Promise<boolean>;
  abstract deleteChallengesExpiredBefore(before: Date): Promise<number>;
}
