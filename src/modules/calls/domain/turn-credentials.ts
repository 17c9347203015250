import { createHmac } from 'node:crypto';

export interface IceServer {
  urls: string[];
  username?: string;
  credential?: string;
}

/**
 * coturn's `use-auth-secret` (the TURN REST API scheme): the username carries its own
 * expiry, and the password is an HMAC of it under a secret that Parley and coturn share,
 * so nothing is stored and coturn checks each credential on its own.
 */
export function turnCredential(
  secret: string,
  userId: string,
  expiresAtSec: number,
): { username: string; credential: string } {
  const username = `${expiresAtSec}:${userId}`;
  const credential = createHmac('sha1', secret).update(username).digest('base64');
  return { username, credential };
}

export function iceServers(input: {
  stunUrls: readonly string[];
  turnUrls: readonly string[];
  turnSecret: string | undefined;
  userId: string;
  nowSec: number;
  ttlSec: number;
}): IceServer[] {
  const servers: IceServer[] = [];
  if (input.stunUrls.length) servers.push({ urls: [...input.stunUrls] });
  if (input.turnUrls.length && input.turnSecret) {
    servers.push({
      urls: [...input.turnUrls],
      ...turnCredential(input.turnSecret, input.userId, input.nowSec + input.ttlSec),
    });
  }
  return servers;
}
