import { randomUUID } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import type { DeviceIdentity, Ledger, WireMessage } from './ledger';

const SEND_TIMEOUT_MS = 10_000;
const SYNC_TIMEOUT_MS = 15_000;
const SYNC_LIMIT = 100;
/** How long a hole in the received seqs may stay open before the device syncs. */
const GAP_WAIT_MS = 3000;

type Ack<T> = ({ ok: true } & T) | { ok: false; error?: { code?: string; message?: string } };

interface PendingSend {
  clientMsgId: string;
  conversationId: string;
  inFlight: boolean;
  retryTimer?: NodeJS.Timeout;
}

/** Per conversation: the delivered watermark this device acked, and the seqs it holds above it. */
interface Position {
  acked: number;
  above: Set<number>;
}

export interface DeviceEvents {
  log(message: string): void;
  counter(name: string): void;
}

/**
 * One device of a simulated user, behaving as a careful real client does:
 * - after every (re)connect it runs `sync` until hasMore is false, acking each page;
 * - it acks `delivered` only up to the highest seq it holds without a hole, so a live
 *   message that overtakes older ones never makes the server forget them;
 * - a send stays in its outbox until acked, retried with the same clientMsgId after a
 *   failure, a timeout or a reconnect.
 */
export class SoakDevice {
  private socket?: Socket;
  /** Whether the simulated user wants this device online (the harness's intent). */
  wantOnline = false;
  synced = false;
  private syncing = false;
  private session = 0;
  private readonly outbox = new Map<string, PendingSend>();
  private readonly positions = new Map<string, Position>();
  private reconnectTimer?: NodeJS.Timeout;
  private gapTimer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    readonly identity: DeviceIdentity,
    private readonly token: string,
    private readonly url: string,
    private readonly ledger: Ledger,
    private readonly events: DeviceEvents,
  ) {}

  get connected(): boolean {
    return this.socket?.connected === true;
  }

  get pendingSends(): number {
    return this.outbox.size;
  }

  /** Goes online (or stays); reconnects by itself until told to go offline. */
  goOnline(): void {
    if (this.stopped) return;
    this.wantOnline = true;
    if (!this.socket) {
      this.socket = this.createSocket();
      return;
    }
    if (!this.socket.connected && !this.socket.active) this.socket.connect();
  }

  /** The user closes the app on this device. */
  goOffline(): void {
    this.wantOnline = false;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.gapTimer);
    this.gapTimer = undefined;
    if (this.socket?.connected) this.ledger.offline(this.identity.key, true, Date.now());
    this.socket?.disconnect();
    this.synced = false;
  }

  stop(): void {
    this.stopped = true;
    this.goOffline();
    for (const p of this.outbox.values()) clearTimeout(p.retryTimer);
    this.socket?.removeAllListeners();
    this.socket?.close();
  }

  private createSocket(): Socket {
    const socket = io(this.url, {
      auth: { token: this.token },
      transports: ['websocket'],
      forceNew: true,
      reconnection: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 3000,
      timeout: 10_000,
    });
    socket.on('connect', () => {
      this.session++;
      this.synced = false;
      this.ledger.online(this.identity.key, Date.now());
      this.events.counter('connects');
      void this.afterConnect(this.session);
    });
    socket.on('disconnect', (reason) => {
      this.synced = false;
      if (reason !== 'io client disconnect') {
        this.ledger.offline(this.identity.key, false, Date.now());
        this.events.counter(`disconnect: ${reason}`);
      }
      // The server closing the socket (a drain) stops the client's own reconnection.
      if (reason === 'io server disconnect' && this.wantOnline) this.retryConnect();
    });
    socket.on('connect_error', (error: Error) => {
      this.events.counter(`connect_error: ${error.message}`);
      // A refusal by the server's middleware is not retried by the client library.
      if (!socket.active && this.wantOnline) this.retryConnect();
    });
    socket.on('message:new', (m: WireMessage) => this.onMessage(m, 'live'));
    return socket;
  }

  private retryConnect(): void {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(
      () => {
        if (this.wantOnline && this.socket && !this.socket.connected && !this.socket.active) {
          this.socket.connect();
        }
      },
      500 + Math.random() * 1500,
    );
  }

  private async afterConnect(session: number): Promise<void> {
    const ok = await this.syncAll(session);
    if (session !== this.session || !this.connected) return;
    if (ok) this.synced = true;
    else {
      // Try again shortly on the same connection (the database may be restarting).
      setTimeout(() => {
        if (session === this.session && this.connected) void this.afterConnect(session);
      }, 1000);
    }
    for (const p of this.outbox.values()) this.transmit(p);
  }

  /** `sync` until hasMore is false, acking every page; false if it had to stop. */
  async syncAll(session = this.session): Promise<boolean> {
    if (this.syncing) return false;
    this.syncing = true;
    try {
      const lastSeq = new Map<string, number>();
      for (let page = 0; page < 10_000; page++) {
        const socket = this.socket;
        if (!socket?.connected || session !== this.session) return false;
        const res = (await socket
          .timeout(SYNC_TIMEOUT_MS)
          .emitWithAck('sync', { limit: SYNC_LIMIT })
          .catch(() => undefined)) as
          Ack<{ messages: WireMessage[]; hasMore: boolean }> | undefined;
        if (!res || !res.ok) {
          this.events.counter(`sync failed: ${res && !res.ok ? res.error?.code : 'timeout'}`);
          return false;
        }
        const pageTop = new Map<string, number>();
        for (const m of res.messages) {
          const previous = lastSeq.get(m.conversationId) ?? 0;
          if (m.seq <= previous) this.ledger.syncOrderViolation(this.identity.key);
          lastSeq.set(m.conversationId, Math.max(previous, m.seq));
          pageTop.set(m.conversationId, Math.max(pageTop.get(m.conversationId) ?? 0, m.seq));
          this.ledger.received(this.identity.key, m, 'sync', Date.now());
        }
        // Sync offers everything this device has not acked, from its position on: the
        // page's top seq per conversation is a safe watermark, holes are its own sends.
        for (const [conversationId, seq] of pageTop) {
          const position = this.position(conversationId);
          if (seq > position.acked) position.acked = seq;
          for (const s of position.above) if (s <= seq) position.above.delete(s);
          this.advance(conversationId, position);
          const acked = await this.ackDelivered(conversationId, position.acked);
          if (!acked) return false;
        }
        if (!res.hasMore) return true;
      }
      return false;
    } finally {
      this.syncing = false;
    }
  }

  private position(conversationId: string): Position {
    let p = this.positions.get(conversationId);
    if (!p) {
      p = { acked: 0, above: new Set() };
      this.positions.set(conversationId, p);
    }
    return p;
  }

  private advance(conversationId: string, p: Position): boolean {
    let moved = false;
    while (p.above.has(p.acked + 1)) {
      p.above.delete(p.acked + 1);
      p.acked++;
      moved = true;
    }
    return moved;
  }

  private hold(conversationId: string, seq: number): boolean {
    const p = this.position(conversationId);
    if (seq > p.acked) p.above.add(seq);
    return this.advance(conversationId, p);
  }

  private async ackDelivered(conversationId: string, seq: number): Promise<boolean> {
    const socket = this.socket;
    if (!socket?.connected || seq <= 0) return false;
    const res = (await socket
      .timeout(SEND_TIMEOUT_MS)
      .emitWithAck('message:ack', { conversationId, seq, status: 'delivered' })
      .catch(() => undefined)) as Ack<object> | undefined;
    if (!res?.ok)
      this.events.counter(`ack failed: ${res && !res.ok ? res.error?.code : 'timeout'}`);
    return res?.ok === true;
  }

  private onMessage(m: WireMessage, via: 'live' | 'sync'): void {
    this.ledger.received(this.identity.key, m, via, Date.now());
    if (this.hold(m.conversationId, m.seq)) {
      void this.ackDelivered(m.conversationId, this.position(m.conversationId).acked);
    }
    if (this.position(m.conversationId).above.size) this.watchGap(m.conversationId);
  }

  /**
   * A hole below a live message: live delivery missed something (another instance's
   * event lost while Redis was down, say). If the hole is still open a little later,
   * fetch what is missing by `sync`, as clients that order by seq do.
   */
  private watchGap(conversationId: string): void {
    if (this.gapTimer) return;
    const session = this.session;
    this.gapTimer = setTimeout(() => {
      this.gapTimer = undefined;
      const p = this.position(conversationId);
      if (!p.above.size || session !== this.session || !this.connected) return;
      this.events.counter('sync on gap');
      void this.syncAll(session);
    }, GAP_WAIT_MS);
  }

  /** A new message from this device; it stays in the outbox until the server acks it. */
  send(conversationId: string): void {
    const p: PendingSend = { clientMsgId: randomUUID(), conversationId, inFlight: false };
    this.outbox.set(p.clientMsgId, p);
    this.ledger.sendStarted(p.clientMsgId, this.identity, conversationId, Date.now());
    this.transmit(p);
  }

  private transmit(p: PendingSend): void {
    const socket = this.socket;
    if (p.inFlight || !socket?.connected || !this.outbox.has(p.clientMsgId)) return;
    clearTimeout(p.retryTimer);
    p.inFlight = true;
    this.ledger.sendAttempted(p.clientMsgId);
    void socket
      .timeout(SEND_TIMEOUT_MS)
      .emitWithAck('message:send', {
        clientMsgId: p.clientMsgId,
        conversationId: p.conversationId,
        type: 'text',
        body: `soak ${p.clientMsgId}`,
      })
      .then(
        (res: Ack<{ message: WireMessage }>) => {
          p.inFlight = false;
          if (res.ok) {
            this.outbox.delete(p.clientMsgId);
            this.ledger.acked(p.clientMsgId, res.message, Date.now());
            if (this.hold(p.conversationId, res.message.seq)) {
              void this.ackDelivered(p.conversationId, this.position(p.conversationId).acked);
            }
            return;
          }
          this.ledger.sendFailed(res.error?.code ?? 'UNKNOWN');
          this.scheduleRetry(p);
        },
        () => {
          p.inFlight = false;
          this.ledger.sendFailed('TIMEOUT');
          this.scheduleRetry(p);
        },
      );
  }

  private scheduleRetry(p: PendingSend): void {
    if (this.stopped) return;
    clearTimeout(p.retryTimer);
    p.retryTimer = setTimeout(() => this.transmit(p), 500 + Math.random() * 1500);
  }
}
