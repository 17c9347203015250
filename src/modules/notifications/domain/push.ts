export const PUSH_PROVIDERS = ['fcm', 'apns', 'apns-voip', 'webpush', 'unifiedpush'] as const;
export type PushProvider = (typeof PUSH_PROVIDERS)[number];

/** A device's token with one provider. */
export interface PushRegistration {
  deviceId: string;
  userId: string;
  provider: PushProvider;
  /** FCM/APNs token, Web Push subscription JSON, or UnifiedPush endpoint URL. */
  token: string;
}

/** What a message push carries: counts only, never a body; a name only with previews on. */
export interface MessagePushPayload {
  type: 'message';
  conversationId: string;
  unreadCount: number;
  badge: number;
  senderName?: string;
}

export interface CallPushPayload {
  type: 'call';
  callId: string;
  callerId: string;
  media: 'audio' | 'video';
}

export type PushPayload = MessagePushPayload | CallPushPayload;

/** One push to one device, as a sender adapter gets it. */
export interface PushMessage {
  payload: PushPayload;
  /** Pushes with the same key replace each other on the device (per conversation). */
  collapseKey?: string;
  /** Calls: delivered at once at the highest priority the provider has. */
  urgent: boolean;
}

/** `gone`: the provider says the token no longer exists; it is dropped. */
export type PushOutcome = 'sent' | 'gone';

/** A Web Push subscription as browsers serialize it (PushSubscription.toJSON()). */
export interface WebPushSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

/**
 * A collapse key every provider accepts: Web Push's Topic allows at most 32 URL-safe
 * characters, so the dashes of the conversation's UUID go.
 */
export const collapseKeyOf = (conversationId: string): string => conversationId.replace(/-/g, '');

/** Message pushes never go to VoIP tokens: iOS ends apps that get a VoIP push and ring nothing. */
export const takesMessagePushes = (provider: PushProvider): boolean => provider !== 'apns-voip';
