import { randomBytes } from 'node:crypto';
import { normalizeToken } from './registration-token';

const b64 = (n: number) => randomBytes(n).toString('base64url');

describe('normalizeToken', () => {
  it('accepts and lowercases APNs tokens, refuses anything else', () => {
    const token = 'AB'.repeat(32);
    expect(normalizeToken('apns', token)).toEqual({ token: token.toLowerCase() });
    expect(normalizeToken('apns-voip', 'xyz')).toHaveProperty('problem');
  });

  it('keeps only endpoint and keys of a Web Push subscription, and checks the key sizes', () => {
    const subscription = {
      endpoint: 'https://push.example.com/abc',
      expirationTime: null,
      keys: { p256dh: b64(65), auth: b64(16) },
    };
    const result = normalizeToken('webpush', JSON.stringify(subscription));
    expect(result).toEqual({
      token: JSON.stringify({ endpoint: subscription.endpoint, keys: subscription.keys }),
      endpoint: subscription.endpoint,
    });
    const badKey = { ...subscription, keys: { p256dh: b64(10), auth: b64(16) } };
    expect(normalizeToken('webpush', JSON.stringify(badKey))).toHaveProperty('problem');
    expect(normalizeToken('webpush', 'not json')).toHaveProperty('problem');
    expect(normalizeToken('webpush', 'null')).toHaveProperty('problem');
  });

  it('passes FCM tokens of the right alphabet and UnifiedPush endpoints on', () => {
    expect(normalizeToken('fcm', 'dGVzdA:APA91b-abc_def.ghi')).toEqual({
      token: 'dGVzdA:APA91b-abc_def.ghi',
    });
    expect(normalizeToken('fcm', 'has spaces in it, nope')).toHaveProperty('problem');
    expect(normalizeToken('unifiedpush', 'https://up.example.com/x')).toEqual({
      token: 'https://up.example.com/x',
      endpoint: 'https://up.example.com/x',
    });
  });
});
