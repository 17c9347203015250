import { randomUUID } from 'node:crypto';
import type { BenchContext } from './context';
import { httpJson } from './http';
import type { ClientSpec } from './protocol';
import { OTP, type ServerUnderTest } from './servers';

export interface BenchUser {
  userId: string;
  /** Parley access token; absent for relay users. */
  token?: string;
}

let phoneCounter = 0;

/** A phone number unique in this run (E.164). */
function nextPhone(runTag: number): string {
  phoneCounter++;
  return `+1999${String(runTag).padStart(3, '0')}${String(phoneCounter).padStart(7, '0')}`;
}

export interface SignedInDevice {
  userId: string;
  deviceId: string;
  accessToken: string;
}

/**
 * POST /auth/verify with the test code: registers a new device of the user owning `phone`
 * (creating the user on first use). Retried a few times: the caller may be mid-restart.
 */
export async function verifyDevice(
  baseUrl: string,
  phone: string,
  deviceName: string,
  attempts = 3,
): Promise<SignedInDevice> {
  let lastError = '';
  for (let attempt = 0; attempt < attempts; attempt++) {
    const res = await httpJson<{ userId?: string; deviceId?: string; accessToken?: string }>(
      baseUrl,
      'POST',
      '/api/v1/auth/verify',
      { body: { phone, code: OTP, deviceName, platform: 'web' } },
    ).catch((error: unknown) => ({ status: 0, body: { error: String(error) } }));
    const body = res.body as { userId?: string; deviceId?: string; accessToken?: string };
    if (res.status === 200 && body.userId && body.accessToken) {
      return { userId: body.userId, deviceId: body.deviceId ?? '', accessToken: body.accessToken };
    }
    lastError = `${res.status} ${JSON.stringify(res.body).slice(0, 200)}`;
  }
  throw new Error(`sign-in failed: ${lastError}`);
}

/** Signs users in over HTTP (POST /auth/verify with the test code), in parallel batches. */
export async function signInMany(
  ctx: BenchContext,
  count: number,
  concurrency = 48,
): Promise<{ users: BenchUser[]; ms: number }> {
  const started = Date.now();
  const users: BenchUser[] = new Array<BenchUser>(count);
  const runTag = Number.parseInt(ctx.runId, 36) % 1000;
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const device = await verifyDevice(ctx.product.url, nextPhone(runTag), 'bench');
      users[i] = { userId: device.userId, token: device.accessToken };
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return { users, ms: Date.now() - started };
}

/** Users for a server: signed-in Parley users, or ids for the relay (which has no auth). */
export async function usersFor(
  ctx: BenchContext,
  server: ServerUnderTest,
  count: number,
): Promise<BenchUser[]> {
  if (server.name === 'product') return ctx.users(count);
  return Array.from({ length: count }, () => ({ userId: randomUUID() }));
}

export function clientSpec(key: string, user: BenchUser): ClientSpec {
  return { key, auth: user.token ? { token: user.token } : { userId: user.userId } };
}

/** POST /api/v1/groups as `creator` with the given members; returns the group id. */
export async function createGroup(
  ctx: BenchContext,
  creator: BenchUser,
  memberIds: string[],
  name: string,
): Promise<string> {
  const res = await httpJson<{ id?: string }>(ctx.product.url, 'POST', '/api/v1/groups', {
    token: creator.token,
    body: { name, memberIds },
    timeoutMs: 60_000,
  });
  if (res.status !== 201 || !res.body.id) {
    throw new Error(`POST /groups failed: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
  }
  return res.body.id;
}
