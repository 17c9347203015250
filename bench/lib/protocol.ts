/** Messages between the harness and its load-generator processes (Node IPC, JSON). */

export interface ClientSpec {
  key: string;
  /** Socket.IO handshake auth: { token } for Parley, { userId } for the relay. */
  auth: Record<string, string>;
}

/** How receivers ack what they get: not at all, `delivered`, or `delivered` then `read`. */
export type AckMode = 'none' | 'delivered' | 'read';

export interface AckCounts {
  delivered: number;
  read: number;
  /** Acks answered with an error. */
  errors: number;
  /** `receipt` events the senders got. */
  receipts: number;
  /** Acks with no answer (or, in a rate step, no receipt) when the step was reported. */
  unanswered: number;
}

export type SendTarget = { conversationId: string } | { recipientId: string };

export interface PairSpec {
  sender: string;
  receiver: string;
  target: SendTarget;
}

export type GeneratorRequest =
  | {
      cmd: 'connect';
      url: string;
      clients: ClientSpec[];
      concurrency: number;
      timeoutMs: number;
    }
  | { cmd: 'close'; keys?: string[] }
  | { cmd: 'join'; keys: string[]; room: string; concurrency: number }
  | {
      cmd: 'rate';
      step: number;
      ratePerSec: number;
      durationMs: number;
      pairs: PairSpec[];
      bodyBytes: number;
      drainMs: number;
      backlogLimit: number;
      acks: AckMode;
      /** Receivers ack once this long after the first unacked message (0: each at once)... */
      ackWindowMs: number;
      /** ... or once this many are unacked in a conversation. */
      ackMaxPending: number;
    }
  | { cmd: 'outstanding' }
  | { cmd: 'fanoutArm'; tag: string; expect: number; timeoutMs: number; acks?: AckMode }
  | { cmd: 'fanoutCollect'; tag: string }
  | { cmd: 'fanoutSend'; tag: string; key: string; conversationId: string; bodyBytes: number }
  | {
      cmd: 'send';
      key: string;
      target: SendTarget;
      count: number;
      window: number;
      bodyBytes: number;
      /** After the first ack, address the conversation by id (what a real client does). */
      switchToConversation: boolean;
      timeoutMs: number;
      /** The recipient's socket in this generator acks every message at once. */
      receiverAcks?: Exclude<AckMode, 'none'>;
    }
  | {
      cmd: 'ack';
      key: string;
      conversationId: string;
      seq: number;
      status: 'delivered' | 'read';
    }
  | {
      cmd: 'syncRun';
      url: string;
      token: string;
      limit: number;
      expected: number;
      timeoutMs: number;
    }
  | { cmd: 'stats' }
  | { cmd: 'exit' };

export interface ConnectResult {
  connected: number;
  failed: number;
  errors: string[];
  /** Handshake time histogram (µs), encoded. */
  histogram: string;
  ms: number;
}

export interface RateResult {
  step: number;
  planned: number;
  sent: number;
  acked: number;
  ackErrors: number;
  ackTimeouts: number;
  errorCodes: Record<string, number>;
  received: number;
  duplicates: number;
  /** Send-to-receive latency from the intended send time (µs), encoded. */
  histogram: string;
  /** Send-to-ack ("sent" tick) latency from the intended send time (µs), encoded. */
  ackHistogram: string;
  /** How late the generator emitted relative to the schedule (µs), encoded. */
  lagHistogram: string;
  /** Recipient's ack to the sender's `receipt` (µs), encoded. */
  receiptHistogram: string;
  acks: AckCounts;
  sendSeconds: number;
  aborted?: string;
}

export interface FanoutSendResult {
  sentUs: number;
  ackUs: number;
  ok: boolean;
  error?: string;
  seq?: number;
}

export interface FanoutCollectResult {
  count: number;
  receivedUs: number[];
}

export interface SendResult {
  ok: number;
  errors: number;
  errorCodes: Record<string, number>;
  ms: number;
  conversationId?: string;
  lastSeq?: number;
  acks?: AckCounts;
}

export interface SyncRunResult {
  connectMs: number;
  firstBatchMs: number;
  totalMs: number;
  batches: number;
  messages: number;
  unique: number;
  ackErrors: number;
  syncErrors: number;
  inOrder: boolean;
  complete: boolean;
  error?: string;
}

export interface StatsResult {
  sockets: number;
  disconnects: number;
  disconnectReasons: Record<string, number>;
  rssBytes: number;
  heapUsedBytes: number;
}

export type GeneratorMessage =
  | { kind: 'ready'; index: number }
  | { kind: 'response'; id: number; ok: true; result: unknown }
  | { kind: 'response'; id: number; ok: false; error: string };

export interface GeneratorEnvelope {
  id: number;
  request: GeneratorRequest;
}
