import type { MemberRole, Message, Platform, SendableMessageType } from './models';

/** REST request and response bodies under `/api/v1` that are not plain models. */

export const API_BASE = '/api/v1';

export interface OtpRequest {
  /** E.164, e.g. +14155550101. */
  phone: string;
}
export interface OtpResponse {
  expiresInSec: number;
}

export interface VerifyRequest {
  phone: string;
  code: string;
  deviceName?: string;
  platform?: Platform;
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  expiresInSec: number;
  userId: string;
  deviceId: string;
  isNewUser: boolean;
}

export interface RefreshRequest {
  refreshToken: string;
}

export interface UpdateProfileRequest {
  displayName?: string;
  about?: string;
}

export interface ContactMatch {
  userId: string;
  phone: string;
  displayName: string;
}

export interface HistoryQuery {
  beforeSeq?: number;
  afterSeq?: number;
  /** Default 50, capped at 100. */
  limit?: number;
}

export interface CreateGroupRequest {
  name: string;
  description?: string;
  memberIds: string[];
}

export interface UpdateGroupRequest {
  name?: string;
  description?: string;
  onlyAdminsCanSend?: boolean;
  onlyAdminsCanEditInfo?: boolean;
  iconMediaId?: string | null;
}

export interface GroupMembersPage {
  members: Array<{ userId: string; role: MemberRole }>;
  nextCursor: string | null;
}

export interface SyncResponse {
  messages: Message[];
  hasMore: boolean;
}

/** `POST /messages` takes the socket's `message:send` payload. */
export type RestSendRequest = {
  clientMsgId: string;
  conversationId?: string;
  recipientId?: string;
  type?: SendableMessageType;
  body?: string;
  mediaId?: string;
};

/** E2E keys: base64 of libsignal's serialized public keys and XEdDSA signatures. */
export interface PreKeyWire {
  keyId: number;
  publicKey: string;
}
export interface SignedPreKeyWire extends PreKeyWire {
  signature: string;
}

/** `PUT /keys`: the caller's device keys (at most 100 one-time keys of each kind a call). */
export interface UploadKeysRequest {
  identityKey: string;
  registrationId: number;
  signedPreKey: SignedPreKeyWire;
  preKeys?: PreKeyWire[];
  pqLastResortPreKey?: SignedPreKeyWire;
  pqPreKeys?: SignedPreKeyWire[];
}

/** `GET /keys/count` and the `keys:low` event: one-time keys the device has left. */
export interface KeyCounts {
  count: number;
  pqCount: number;
}

/** `GET /keys/{userId}/{deviceId|*}`: one-time keys in it were handed out to this fetch only. */
export interface KeyBundle {
  identityKey: string;
  devices: Array<{
    deviceId: string;
    registrationId: number;
    signedPreKey: SignedPreKeyWire;
    preKey: PreKeyWire | null;
    pqPreKey: SignedPreKeyWire | null;
  }>;
}

/** `GET /client-config`: how sign-in codes reach people on this server. */
export interface ClientConfig {
  /** AUTH_TEST_OTP is set: one fixed code works for every phone and no SMS is sent. */
  testOtp: boolean;
  /** `log`: codes are written to the server's log instead of being sent. */
  smsDriver: 'log' | 'webhook';
}
