import type { Message, ReceiptEvent } from '@parley/protocol';
import { randomUUID } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import { connect, request, signIn, type Session } from './clients';
import { http } from './http';
import type { TestApp } from './test-app';

/** Chat helpers for e2e suites: devices, sends, sync, acks and history over the real API. */

// The wire types come from the one contract in packages/protocol.
export type { Message } from '@parley/protocol';
export type Receipt = ReceiptEvent;

export interface SyncPage {
  ok: true;
  messages: Message[];
  hasMore: boolean;
}

export const errorAck = (code: string) => ({ ok: false, error: expect.objectContaining({ code }) });

export { eventually } from './wait';

/** Helpers bound to one running app. */
export function clientsOf(getApp: () => TestApp) {
  const opened: Socket[] = [];
  const t = () => getApp();

  const user = () => signIn(t());
  /** Another device of the same user. */
  const device = (s: Session) => signIn(t(), s.phone);
  const open = async (s: Session) => {
    const socket = await connect(t(), s.accessToken);
    opened.push(socket);
    return socket;
  };
  const closeAll = () => {
    for (const socket of opened.splice(0)) socket.close();
  };

  const direct = async (a: Session, b: Session): Promise<string> => {
    const res = await http(t().api, 'POST', '/conversations/direct', {
      token: a.accessToken,
      body: { userId: b.userId },
    });
    if (res.status !== 200) throw new Error(`direct: ${res.status} ${JSON.stringify(res.body)}`);
    return (res.body as { id: string }).id;
  };

  const trySend = (socket: Socket, payload: Record<string, unknown>) =>
    request(socket, 'message:send', { clientMsgId: randomUUID(), type: 'text', ...payload });

  const send = async (socket: Socket, payload: Record<string, unknown>): Promise<Message> => {
    const res = await trySend(socket, payload);
    if (!res?.ok) throw new Error(`message:send failed: ${JSON.stringify(res)}`);
    return res.message as Message;
  };

  /** Sends many messages over one socket, `parallel` at a time. */
  const sendMany = async (
    socket: Socket,
    conversationId: string,
    bodies: string[],
    parallel = 250,
  ): Promise<Message[]> => {
    const out: Message[] = [];
    for (let i = 0; i < bodies.length; i += parallel) {
      const chunk = bodies.slice(i, i + parallel);
      out.push(...(await Promise.all(chunk.map((body) => send(socket, { conversationId, body })))));
    }
    return out;
  };

  const post = (s: Session, body: Record<string, unknown>) =>
    http<Message & { code?: string }>(t().api, 'POST', '/messages', {
      token: s.accessToken,
      body: { clientMsgId: randomUUID(), type: 'text', ...body },
    });

  const ack = (socket: Socket, conversationId: string, seq: number, status: string) =>
    request(socket, 'message:ack', { conversationId, seq, status });

  const putStatus = (s: Session, messageId: string, status: string) =>
    http(t().api, 'PUT', `/messages/${messageId}/status`, {
      token: s.accessToken,
      body: { status },
    });

  const sync = (socket: Socket, payload: Record<string, unknown> = {}) =>
    request<SyncPage>(socket, 'sync', payload);

  /** Syncs and acks (delivered) until nothing is left; returns what was offered. */
  const drain = async (socket: Socket, limit?: number): Promise<Message[]> => {
    const all: Message[] = [];
    for (let round = 0; round < 100; round++) {
      const page = await sync(socket, limit === undefined ? {} : { limit });
      expect(page.ok).toBe(true);
      all.push(...page.messages);
      const last = new Map<string, number>();
      for (const m of page.messages)
        last.set(m.conversationId, Math.max(last.get(m.conversationId) ?? 0, m.seq));
      for (const [conversationId, seq] of last)
        expect(await ack(socket, conversationId, seq, 'delivered')).toEqual({ ok: true });
      if (!page.hasMore) return all;
    }
    throw new Error('sync never finished');
  };

  const history = (s: Session, conversationId: string, query = '') =>
    http<{ messages: Message[]; hasMore: boolean; code?: string }>(
      t().api,
      'GET',
      `/conversations/${conversationId}/messages${query}`,
      { token: s.accessToken },
    );

  const conversations = async (s: Session) => {
    const res = await http(t().api, 'GET', '/conversations', { token: s.accessToken });
    expect(res.status).toBe(200);
    return res.body as Array<Record<string, any>>;
  };

  const conversation = async (s: Session, id: string) => {
    const found = (await conversations(s)).find((c) => c.id === id);
    if (!found) throw new Error(`conversation ${id} not listed`);
    return found;
  };

  const receipts = async (s: Session, messageId: string) => {
    const res = await http(t().api, 'GET', `/messages/${messageId}/receipts`, {
      token: s.accessToken,
    });
    expect(res.status).toBe(200);
    return res.body as Array<{ userId: string; status: string; at: string }>;
  };

  return {
    user,
    device,
    open,
    closeAll,
    direct,
    trySend,
    send,
    sendMany,
    post,
    ack,
    putStatus,
    sync,
    drain,
    history,
    conversations,
    conversation,
    receipts,
  };
}
