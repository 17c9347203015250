import { io, type Socket } from 'socket.io-client';
import { http } from './http';
import { TEST_OTP, type TestApp } from './test-app';

export interface Session {
  accessToken: string;
  refreshToken: string;
  expiresInSec: number;
  userId: string;
  deviceId: string;
  isNewUser: boolean;
  phone: string;
}

let phoneCounter = 0;

/**
 * A phone number no other test in this process uses: a counter, never the clock (two
 * calls in one millisecond, or a clock that wraps, must not give the same number), under
 * a per-process prefix so that parallel test processes differ too.
 */
export function uniquePhone(): string {
  phoneCounter += 1;
  if (phoneCounter >= 1_000_000) throw new Error('uniquePhone: a million numbers used up');
  const base = (process.pid % 1000) * 1_000_000 + phoneCounter;
  return `+1555${base.toString().padStart(9, '0')}`;
}

/** Signs in through the public API with the test OTP; each call registers a new device. */
export async function signIn(
  app: Pick<TestApp, 'api'>,
  phone = uniquePhone(),
  extra: { deviceName?: string; platform?: string } = {},
): Promise<Session> {
  const res = await http(app.api, 'POST', '/auth/verify', {
    body: { phone, code: TEST_OTP, ...extra },
  });
  if (res.status !== 200)
    throw new Error(`sign-in failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { ...(res.body as Omit<Session, 'phone'>), phone };
}

/** A connected socket.io-client; rejects with the connect_error message otherwise. */
export function connect(
  app: Pick<TestApp, 'url'>,
  token: string | undefined,
  timeoutMs = 5000,
  headers?: Record<string, string>,
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = io(app.url, {
      auth: token === undefined ? {} : { token },
      extraHeaders: headers,
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('connect timeout'));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('connect_error', (error: Error) => {
      clearTimeout(timer);
      socket.close();
      reject(error);
    });
  });
}

/** Emits with an ack and resolves with the ack payload. */
export function request<T = any>(
  socket: Socket,
  event: string,
  payload?: unknown,
  timeoutMs = 10000,
): Promise<T> {
  return socket.timeout(timeoutMs).emitWithAck(event, payload) as Promise<T>;
}

/** Resolves with the next event matching the predicate. */
export function nextEvent<T = any>(
  socket: Socket,
  event: string,
  predicate: (payload: T) => boolean = () => true,
  timeoutMs = 5000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, listener);
      reject(new Error(`timed out waiting for ${event}`));
    }, timeoutMs);
    const listener = (payload: T) => {
      if (!predicate(payload)) return;
      clearTimeout(timer);
      socket.off(event, listener);
      resolve(payload);
    };
    socket.on(event, listener);
  });
}

/** Collects every payload of an event until stopped. */
export function collect<T = any>(socket: Socket, event: string): { items: T[]; stop: () => void } {
  const items: T[] = [];
  const listener = (payload: T) => items.push(payload);
  socket.on(event, listener);
  return { items, stop: () => socket.off(event, listener) };
}

/** Resolves true if no matching event arrives within the window. */
export async function expectNoEvent(
  socket: Socket,
  event: string,
  windowMs = 300,
): Promise<boolean> {
  let seen = false;
  const listener = () => {
    seen = true;
  };
  socket.on(event, listener);
  await new Promise((r) => setTimeout(r, windowMs));
  socket.off(event, listener);
  return !seen;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
