/** Messages between the harness and its load-generator processes (Node IPC, JSON). */

export interface ClientSpec {
  key: string;
  /** Socket.IO handshake auth: { token } for Parley, { userId } for the relay. */
  auth: Record<string, string>;
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
    }
  | { cmd: 'outstanding' }
  | { cmd: 'fanoutArm'; tag: string; expect: number; timeoutMs: number }
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
