import {
  SERVER_EVENT_NAMES,
  type Ack,
  type InboundEventMap,
  type InboundEventName,
  type InboundPayload,
  type Message,
  type Presence,
  type ReceiptStatus,
  type SendMessagePayload,
  type ServerEventMap,
  type TokenPair,
} from '@parley/protocol';
import { io, type Socket } from 'socket.io-client';
import { TypedEmitter } from './emitter';
import { ParleyError } from './errors';
import { MemorySessionStore, RestApi, type SessionStore } from './rest';
import { SeqTracker, type Gap } from './seq-tracker';
import { newUuid } from './uuid';

export type ConnectionState = 'disconnected' | 'connecting' | 'connected';

/** How a message reached this client. */
export type MessageSource = 'live' | 'sync' | 'gap' | 'self';

/** A send waiting for its ack; kept across disconnects and sent again on reconnect. */
export interface PendingSend {
  payload: SendMessagePayload;
  queuedAt: number;
}

/** The server's events as they arrive, plus what the client derives from them. */
export interface ClientEvents extends ServerEventMap {
  /** Each message once, whether live, from sync, from a gap fill or sent by this client. */
  message: { message: Message; source: MessageSource };
  /** Seqs found missing in a conversation; the client fills them from history. */
  gap: Gap;
  connection: ConnectionState;
  /** A sync after (re)connecting finished; `count` messages were new. */
  synced: { count: number };
  /** The sends not yet acknowledged changed. */
  outbox: PendingSend[];
  /** Signed in, refreshed, or signed out (null). */
  session: TokenPair | null;
}

export interface ParleyClientOptions {
  /** The server's origin, e.g. `http://localhost:3000`; in a page served by Parley, `location.origin`. */
  url: string;
  sessionStore?: SessionStore;
  /** Ack every message `delivered` as it arrives (default true). */
  autoDeliveredAcks?: boolean;
  /** Messages per `sync` call (default 100). */
  syncLimit?: number;
  /** How long to wait for an ack (default 10 s). */
  ackTimeoutMs?: number;
  /** Reconnect after a dropped connection (default true). */
  reconnect?: boolean;
  /** Longest wait between reconnection attempts (default 2 s). */
  reconnectDelayMaxMs?: number;
  /** Wait this long for out-of-order messages before reading a gap from history (default 300 ms). */
  gapGraceMs?: number;
}

/**
 * A Parley client for Node and browsers: REST (sign-in, conversations, groups, media,
 * devices) and a Socket.IO connection with typed events, an outbox that survives
 * disconnects (sends are idempotent by clientMsgId), sync after every (re)connect,
 * duplicate suppression, gap detection by seq and automatic delivered acks.
 */
export class ParleyClient extends TypedEmitter<ClientEvents> {
  readonly api: RestApi;
  private socket?: Socket;
  private state: ConnectionState = 'disconnected';
  private readonly seqs = new SeqTracker();
  private readonly outboxQueue: PendingSend[] = [];
  private readonly waiters = new Map<
    string,
    { resolve: (m: Message) => void; reject: (e: unknown) => void }
  >();
  private pumping = false;
  private readonly deliveredAcked = new Map<string, number>();
  private readonly ackDue = new Set<string>();
  private ackTimer?: ReturnType<typeof setTimeout>;
  private readonly gapTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly watching = new Set<string>();
  private readonly options: Required<Omit<ParleyClientOptions, 'sessionStore'>>;

  constructor(options: ParleyClientOptions) {
    super();
    this.options = {
      autoDeliveredAcks: true,
      syncLimit: 100,
      ackTimeoutMs: 10_000,
      reconnect: true,
      reconnectDelayMaxMs: 2_000,
      gapGraceMs: 300,
      ...options,
      url: options.url.replace(/\/$/, ''),
    };
    this.api = new RestApi(
      this.options.url,
      options.sessionStore ?? new MemorySessionStore(),
      (session) => this.emit('session', session),
    );
  }

  get session(): TokenPair | null {
    return this.api.session;
  }

  get connectionState(): ConnectionState {
    return this.state;
  }

  get pending(): readonly PendingSend[] {
    return this.outboxQueue;
  }

  // ---- sign-in -------------------------------------------------------------------------

  requestCode(phone: string): Promise<{ expiresInSec: number }> {
    return this.api.requestCode(phone);
  }

  signIn(
    phone: string,
    code: string,
    device: { deviceName?: string; platform?: 'ios' | 'android' | 'web' | 'desktop' } = {},
  ): Promise<TokenPair> {
    return this.api.verify({ phone, code, ...device });
  }

  /** Signs out this device and closes the connection; queued sends are dropped. */
  async signOut(): Promise<void> {
    this.disconnect();
    this.dropOutbox(new ParleyError({ code: 'UNAUTHORIZED', message: 'signed out' }));
    await this.api.logout();
  }

  // ---- connection ----------------------------------------------------------------------

  /** Opens the socket (resolves once connected); it reconnects and syncs by itself. */
  connect(): Promise<void> {
    if (!this.session) {
      return Promise.reject(new ParleyError({ code: 'UNAUTHORIZED', message: 'not signed in' }));
    }
    if (!this.socket) this.socket = this.openSocket();
    if (this.socket.connected) return Promise.resolve();
    const socket = this.socket;
    if (!socket.active) socket.connect();
    this.setState('connecting');
    return new Promise((resolve, reject) => {
      const offState = this.on('connection', (state) => {
        if (state !== 'connected') return;
        offState();
        offSession();
        resolve();
      });
      const offSession = this.on('session', (session) => {
        if (session) return;
        offState();
        offSession();
        reject(new ParleyError({ code: 'UNAUTHORIZED', message: 'signed out' }));
      });
    });
  }

  disconnect(): void {
    const socket = this.socket;
    this.socket = undefined;
    socket?.removeAllListeners();
    socket?.disconnect();
    this.setState('disconnected');
  }

  private openSocket(): Socket {
    const socket = io(this.options.url, {
      auth: (cb) => cb({ token: this.session?.accessToken }),
      transports: ['websocket'],
      reconnection: this.options.reconnect,
      reconnectionDelay: 250,
      reconnectionDelayMax: this.options.reconnectDelayMaxMs,
      autoConnect: false,
    });
    for (const event of SERVER_EVENT_NAMES) {
      socket.on(event, (payload: ClientEvents[typeof event]) => this.emit(event, payload));
    }
    socket.on('message:new', (message: Message) => this.receive(message, 'live'));
    socket.on('session:revoked', () => {
      this.disconnect();
      this.api.setSession(null);
    });
    socket.on('connect', () => {
      this.setState('connected');
      void this.afterConnect(socket);
    });
    socket.on('disconnect', (reason) => {
      this.setState(
        this.socket === socket && this.options.reconnect ? 'connecting' : 'disconnected',
      );
      // The server hung up on purpose (drain, restart): socket.io-client leaves that to us.
      if (reason === 'io server disconnect' && this.socket === socket && this.options.reconnect) {
        setTimeout(() => this.socket === socket && socket.connect(), 250);
      }
    });
    socket.on('connect_error', (error) => {
      if (error.message !== 'UNAUTHORIZED' || this.socket !== socket) return;
      // An expired access token: refresh once and try again; a dead session signs out.
      this.api.refresh().then(
        () => this.socket === socket && socket.connect(),
        () => {
          this.disconnect();
          this.api.setSession(null);
        },
      );
    });
    return socket;
  }

  private async afterConnect(socket: Socket): Promise<void> {
    try {
      if (this.watching.size) {
        const { presence } = await this.request('presence:subscribe', {
          userIds: [...this.watching],
        });
        for (const p of presence) this.emit('presence', p);
      }
      const count = await this.syncAll();
      this.emit('synced', { count });
    } catch {
      // A dropped connection mid-sync: the next connect syncs again.
    }
    if (this.socket === socket) void this.pump();
  }

  private setState(state: ConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    this.emit('connection', state);
  }

  /** Emits an inbound event and resolves with its ack; an error ack rejects with ParleyError. */
  async request<E extends InboundEventName>(
    event: E,
    payload: InboundPayload<E>,
  ): Promise<InboundEventMap[E]['ack']> {
    const socket = this.socket;
    if (!socket?.connected) {
      throw new ParleyError({ code: 'SERVICE_UNAVAILABLE', message: 'not connected' });
    }
    const ack = (await socket
      .timeout(this.options.ackTimeoutMs)
      .emitWithAck(event, payload)) as Ack<InboundEventMap[E]['ack']>;
    if (!ack.ok) throw new ParleyError(ack.error);
    return ack;
  }

  // ---- sending -------------------------------------------------------------------------

  /**
   * Sends a message: resolves with the stored message (the "sent" tick). While
   * disconnected the send waits in the outbox and goes out on reconnect, with the same
   * clientMsgId, so it is stored once however often it is tried.
   */
  send(
    input: Omit<SendMessagePayload, 'clientMsgId'> & { clientMsgId?: string },
  ): Promise<Message> {
    const payload: SendMessagePayload = { ...input, clientMsgId: input.clientMsgId ?? newUuid() };
    return new Promise((resolve, reject) => {
      this.waiters.set(payload.clientMsgId, { resolve, reject });
      this.outboxQueue.push({ payload, queuedAt: Date.now() });
      this.emit('outbox', [...this.outboxQueue]);
      void this.pump();
    });
  }

  /** Sends the outbox in order, one at a time, so seqs follow the order of sending. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    let timedOut = false;
    try {
      while (this.outboxQueue.length && this.socket?.connected) {
        const head = this.outboxQueue[0];
        let message: Message;
        try {
          ({ message } = await this.request('message:send', head.payload));
        } catch (error) {
          if (!(error instanceof ParleyError) || error.code === 'SERVICE_UNAVAILABLE') return;
          this.settle(head, error);
          continue;
        }
        this.receive(message, 'self');
        this.settle(head, message);
      }
    } catch {
      // An ack timeout: the send stays queued and is tried again (the same clientMsgId,
      // so it is stored once) now if the socket is up, or on the next connect.
      timedOut = true;
    } finally {
      this.pumping = false;
      if (timedOut && this.socket?.connected) void this.pump();
    }
  }

  private settle(entry: PendingSend, outcome: Message | ParleyError): void {
    const index = this.outboxQueue.indexOf(entry);
    if (index >= 0) this.outboxQueue.splice(index, 1);
    const waiter = this.waiters.get(entry.payload.clientMsgId);
    this.waiters.delete(entry.payload.clientMsgId);
    if (outcome instanceof ParleyError) waiter?.reject(outcome);
    else waiter?.resolve(outcome);
    this.emit('outbox', [...this.outboxQueue]);
  }

  private dropOutbox(error: ParleyError): void {
    for (const entry of [...this.outboxQueue]) this.settle(entry, error);
  }

  // ---- receiving, sync, acks, gaps ----------------------------------------------------

  private receive(message: Message, source: MessageSource): boolean {
    const fresh = this.seqs.see(message.conversationId, message.seq);
    if (fresh) this.emit('message', { message, source });
    this.ackDue.add(message.conversationId);
    this.scheduleAcks();
    if (source === 'live' || source === 'self') this.watchForGap(message.conversationId);
    return fresh;
  }

  /** Offers what this device has not acked yet, until the server has no more. */
  private async syncAll(): Promise<number> {
    let count = 0;
    for (;;) {
      const { messages, hasMore } = await this.request('sync', { limit: this.options.syncLimit });
      let fresh = 0;
      for (const m of messages) if (this.receive(m, 'sync')) fresh += 1;
      count += fresh;
      await this.flushAcks();
      // A page that moved nothing would come back the same: stop instead of spinning.
      if (!hasMore || (!fresh && !messages.length)) return count;
    }
  }

  /** Marks every message of a conversation up to `seq` read (implies delivered). */
  async markRead(conversationId: string, seq: number): Promise<void> {
    await this.ack(conversationId, seq, 'read');
  }

  async ack(conversationId: string, seq: number, status: ReceiptStatus): Promise<void> {
    await this.request('message:ack', { conversationId, seq, status });
    if (seq > (this.deliveredAcked.get(conversationId) ?? 0)) {
      this.deliveredAcked.set(conversationId, seq);
    }
  }

  /** Tells the client that everything up to `seq` is already shown (e.g. read from history). */
  markKnown(conversationId: string, seq: number): void {
    this.seqs.baseline(conversationId, seq);
  }

  private scheduleAcks(): void {
    if (!this.options.autoDeliveredAcks || this.ackTimer) return;
    this.ackTimer = setTimeout(() => void this.flushAcks(), 20);
  }

  /** Acks delivered only up to the contiguous seq, so a gap is offered again by sync. */
  private async flushAcks(): Promise<void> {
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    if (!this.options.autoDeliveredAcks) return;
    const due = [...this.ackDue];
    this.ackDue.clear();
    await Promise.all(
      due.map(async (conversationId) => {
        const seq = this.seqs.contiguous(conversationId);
        if (seq <= (this.deliveredAcked.get(conversationId) ?? 0)) return;
        try {
          await this.ack(conversationId, seq, 'delivered');
        } catch {
          this.ackDue.add(conversationId);
        }
      }),
    );
  }

  private watchForGap(conversationId: string): void {
    if (!this.seqs.gap(conversationId) || this.gapTimers.has(conversationId)) return;
    const timer = setTimeout(() => {
      this.gapTimers.delete(conversationId);
      void this.fillGap(conversationId);
    }, this.options.gapGraceMs);
    this.gapTimers.set(conversationId, timer);
  }

  /** Reads missing seqs from history; seqs history does not show (withheld, hidden) are skipped. */
  private async fillGap(conversationId: string): Promise<void> {
    let gap = this.seqs.gap(conversationId);
    if (!gap) return;
    this.emit('gap', gap);
    try {
      while (gap) {
        const page = await this.api.history(conversationId, { afterSeq: gap.afterSeq, limit: 100 });
        for (const m of page.messages) this.receive(m, 'gap');
        const reached = page.messages.at(-1)?.seq ?? gap.toSeq - 1;
        this.seqs.baseline(
          conversationId,
          page.hasMore ? reached : Math.max(reached, gap.toSeq - 1),
        );
        const next = this.seqs.gap(conversationId);
        if (next && next.afterSeq <= gap.afterSeq) break;
        gap = next;
      }
    } catch {
      // Try again with the next message that arrives.
    }
    this.ackDue.add(conversationId);
    this.scheduleAcks();
  }

  // ---- presence and typing -------------------------------------------------------------

  /** Watches users' presence, also after reconnects; answers their current state. */
  async watchPresence(userIds: string[]): Promise<Presence[]> {
    for (const id of userIds) this.watching.add(id);
    if (!this.socket?.connected) return [];
    return (await this.request('presence:subscribe', { userIds })).presence;
  }

  async unwatchPresence(userIds: string[]): Promise<void> {
    for (const id of userIds) this.watching.delete(id);
    if (this.socket?.connected) await this.request('presence:unsubscribe', { userIds });
  }

  async typing(conversationId: string, isTyping: boolean): Promise<void> {
    await this.request('typing', { conversationId, isTyping });
  }
}
