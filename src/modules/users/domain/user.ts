export type LastSeenPrivacy = 'everyone' | 'contacts' | 'nobody';
/** Who may add the user to groups. */
export type GroupAddPrivacy = 'everyone' | 'contacts' | 'nobody';

export interface User {
  id: string;
  phone: string;
  displayName: string;
  about: string;
  lastSeenPrivacy: LastSeenPrivacy;
  readReceipts: boolean;
  groupAddPrivacy: GroupAddPrivacy;
  lastSeenAt: Date | null;
  /** The media id of the profile photo (a picture of an uploaded image), if any. */
  photoMediaId: string | null;
  createdAt: Date;
}

/** E.164: a plus, a non-zero country digit, at most 15 digits in all. */
export const E164 = /^\+[1-9]\d{6,14}$/;
