/** Objects the server sends, in REST bodies and Socket.IO payloads (docs/protocol.md). */

export const MESSAGE_TYPES = [
  'text',
  'image',
  'video',
  'audio',
  'document',
  'system',
  'edit',
  'delete',
  'reaction',
] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** What a client may send: everything except `system`, which only the server writes. */
export type SendableMessageType = Exclude<MessageType, 'system'>;
export type MediaMessageType = 'image' | 'video' | 'audio' | 'document';
export const MEDIA_MESSAGE_TYPES: readonly MediaMessageType[] = [
  'image',
  'video',
  'audio',
  'document',
];

export interface Reaction {
  emoji: string;
  userIds: string[];
}

/** The message object. */
export interface Message {
  id: string;
  conversationId: string;
  /** Per conversation, from 1, strictly increasing with no gaps. */
  seq: number;
  senderId: string;
  senderDeviceId: string;
  clientMsgId: string;
  type: MessageType;
  /** Null once the message was deleted for everyone. */
  body: string | null;
  mediaId: string | null;
  /** The message an edit, delete or reaction applies to; null for every other type. */
  targetId: string | null;
  forwardScore: number;
  viewOnce: boolean;
  replyToId: string | null;
  createdAt: string;
  editedAt: string | null;
  deletedAt: string | null;
  /** History reads only. */
  reactions?: Reaction[];
  expiresAt: string | null;
}

export type ConversationType = 'direct' | 'group';
export type MemberRole = 'creator' | 'admin' | 'member';
export type ReceiptStatus = 'delivered' | 'read';

export interface Conversation {
  id: string;
  type: ConversationType;
  /** Groups: the group's name; direct: the peer's display name (or phone). */
  name: string | null;
  /** Direct: the other user. */
  peerId: string | null;
  lastMessage: Message | null;
  lastSeq: number;
  unreadCount: number;
  readSeq: number;
  deliveredSeq: number;
  peerReadSeq: number;
  peerDeliveredSeq: number;
  memberCount: number;
  left: boolean;
  mutedUntil: string | null;
  disappearAfterSec: number;
  createdAt: string;
}

export interface HistoryPage {
  messages: Message[];
  hasMore: boolean;
}

export interface MessageReceipt {
  userId: string;
  status: 'sent' | 'delivered' | 'read';
  at: string;
}

export type LastSeenPrivacy = 'everyone' | 'contacts' | 'nobody';
export type GroupAddPrivacy = 'everyone' | 'contacts' | 'nobody';

export interface OwnProfile {
  id: string;
  phone: string;
  displayName: string;
  about: string;
  photoUrl: string | null;
  privacy: { lastSeen: LastSeenPrivacy; readReceipts: boolean; groupAdd: GroupAddPrivacy };
  createdAt: string;
}

export interface PublicProfile {
  id: string;
  displayName: string;
  about: string;
  photoUrl: string | null;
}

export type Platform = 'ios' | 'android' | 'web' | 'desktop';

export interface Device {
  id: string;
  name: string;
  platform: Platform;
  createdAt: string;
  lastActiveAt: string;
  /** The device making the request. */
  current: boolean;
}

export interface GroupSettings {
  onlyAdminsCanSend: boolean;
  onlyAdminsCanEditInfo: boolean;
}

export interface Group {
  id: string;
  name: string;
  description: string;
  createdBy: string;
  memberCount: number;
  settings: GroupSettings;
  iconUrl: string | null;
  members: Array<{ userId: string; role: MemberRole }>;
  createdAt: string;
}

export interface NotAdded {
  userId: string;
  reason: 'privacy' | 'blocked';
}

/** The answer of `POST /groups` and `POST /groups/{id}/members`. */
export interface GroupAddResult extends Group {
  notAdded: NotAdded[];
}

export interface Presence {
  userId: string;
  /** Null when hidden by privacy or the relationship. */
  online: boolean | null;
  lastSeen: string | null;
}

export type MediaKind = 'image' | 'video' | 'audio' | 'document';
export type NoThumbnailReason = 'not-applicable' | 'ffmpeg-unavailable' | 'failed' | 'view-once';

/** The answer of `POST /media` and `GET /media/{id}/info`. */
export interface MediaInfo {
  mediaId: string;
  kind: MediaKind;
  mimeType: string;
  size: number;
  sha256: string;
  fileName?: string;
  width?: number;
  height?: number;
  durationMs?: number;
  /** Path under the REST base, present once a thumbnail exists. */
  thumbnailUrl?: string;
  status: 'processing' | 'ready';
  noThumbnailReason?: NoThumbnailReason;
  createdAt: string;
}

export type CallMedia = 'audio' | 'video';
export type CallEndReason =
  'rejected' | 'cancelled' | 'hangup' | 'missed' | 'busy' | 'failed' | 'answered_elsewhere';

export interface IceServers {
  iceServers: Array<{ urls: string[]; username?: string; credential?: string }>;
  ttlSec: number;
}
