export type Platform = 'ios' | 'android' | 'web' | 'desktop';

export interface Device {
  id: string;
  userId: string;
  name: string;
  platform: Platform;
  createdAt: Date;
  lastActiveAt: Date;
  revokedAt: Date | null;
}

export type RevokeReason =
  'logout' | 'device_removed' | 'token_reuse' | 'banned' | 'account_deleted';
