import { createHmac } from 'node:crypto';
import { iceServers, turnCredential } from './turn-credentials';

describe('TURN credentials (coturn use-auth-secret)', () => {
  it('signs "<expiry>:<userId>" with HMAC-SHA1 under the shared secret, base64', () => {
    const { username, credential } = turnCredential('s3cret-s3cret-s3', 'user-1', 1_900_000_000);
    expect(username).toBe('1900000000:user-1');
    expect(credential).toBe(
      createHmac('sha1', 's3cret-s3cret-s3').update('1900000000:user-1').digest('base64'),
    );
    expect(turnCredential('another-secret-xx', 'user-1', 1_900_000_000).credential).not.toBe(
      credential,
    );
  });

  it('lists STUN as given and TURN with credentials expiring after the TTL', () => {
    const servers = iceServers({
      stunUrls: ['stun:s.example.org'],
      turnUrls: ['turn:t.example.org:3478', 'turns:t.example.org:5349'],
      turnSecret: 'a-long-enough-secret',
      userId: 'u',
      nowSec: 1000,
      ttlSec: 600,
    });
    expect(servers).toEqual([
      { urls: ['stun:s.example.org'] },
      {
        urls: ['turn:t.example.org:3478', 'turns:t.example.org:5349'],
        username: '1600:u',
        credential: turnCredential('a-long-enough-secret', 'u', 1600).credential,
      },
    ]);
  });

  it('lists nothing when nothing is configured', () => {
    expect(
      iceServers({
        stunUrls: [],
        turnUrls: [],
        turnSecret: undefined,
        userId: 'u',
        nowSec: 0,
        ttlSec: 1,
      }),
    ).toEqual([]);
  });
});
