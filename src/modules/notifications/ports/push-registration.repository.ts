import type { PushProvider, PushRegistration } from '../domain/push';

/** Push tokens per device and provider, and each user's notification settings. */
export abstract class PushRegistrationRepository {
  /** Sets the device's token for the provider (replacing an earlier one). */
  abstract upsert(registration: PushRegistration): Promise<void>;
  /** Removes every registration of the device; returns how many there were. */
  abstract removeDevice(deviceId: string): Promise<number>;
  /**
   * Removes the registration only if it still holds this token (a token reported gone
   * must not delete the newer one the device registered meanwhile).
   */
  abstract removeToken(deviceId: string, provider: PushProvider, token: string): Promise<boolean>;
  abstract forDevice(deviceId: string): Promise<PushRegistration[]>;
  abstract forUsers(userIds: readonly string[]): Promise<PushRegistration[]>;
  abstract setPreview(userId: string, preview: boolean): Promise<void>;
  /** Of these users, those who turned previews on. */
  abstract previewUsers(userIds: readonly string[]): Promise<Set<string>>;
}
