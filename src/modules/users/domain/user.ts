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
  /** Set once the account was deleted: the row stays for the messages it sent. */
  deletedAt: Date | null;
}

/** The name a deleted account shows under its messages and in conversation lists. */
export const DELETED_ACCOUNT_NAME = 'Deleted account';

/** E.164: a plus, a non-zero country digit, at most 15 digits in all. */
export const E164 = /^\+[1-9]\d{6,14}$/;
