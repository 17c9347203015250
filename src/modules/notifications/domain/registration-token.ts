import type { PushProvider, WebPushSubscription } from './push';

/** Base64url of `bytes` bytes, as browsers encode subscription keys. */
const base64urlOf = (value: unknown, bytes: number): boolean =>
  typeof value === 'string' &&
  /^[A-Za-z0-9_-]+=*$/.test(value) &&
  Buffer.from(value, 'base64url').length === bytes;

/**
 * Checks a token's shape for its provider; returns the token to store (a Web Push
 * subscription reduced to what sending needs) or a problem. Endpoints are checked apart.
 */
export function normalizeToken(
  provider: PushProvider,
  token: string,
): { token: string; endpoint?: string } | { problem: string } {
  switch (provider) {
    case 'apns':
    case 'apns-voip':
      return /^[0-9a-fA-F]{64,200}$/.test(token)
        ? { token: token.toLowerCase() }
        : { problem: 'an APNs token is 64 or more hex digits' };
    case 'fcm':
      return /^[A-Za-z0-9_:.-]{16,4096}$/.test(token)
        ? { token }
        : { problem: 'an FCM token is letters, digits and _ : . -' };
    case 'unifiedpush':
      return { token, endpoint: token };
    case 'webpush': {
      let parsed: unknown;
      try {
        parsed = JSON.parse(token);
      } catch {
        return { problem: 'a Web Push token is the subscription JSON' };
      }
      const s = parsed as Partial<WebPushSubscription> | null;
      if (
        !s ||
        typeof s.endpoint !== 'string' ||
        !base64urlOf(s.keys?.p256dh, 65) ||
        !base64urlOf(s.keys?.auth, 16)
      ) {
        return {
          problem: 'the subscription needs endpoint, keys.p256dh (65 bytes), keys.auth (16 bytes)',
        };
      }
      const subscription: WebPushSubscription = {
        endpoint: s.endpoint,
        keys: { p256dh: s.keys!.p256dh, auth: s.keys!.auth },
      };
      return { token: JSON.stringify(subscription), endpoint: s.endpoint };
    }
  }
}
