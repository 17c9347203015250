/**
 * A load-generator process. The harness forks a few of these; each holds its own
 * socket.io-client sockets (source addresses cycling through 127.0.0.2 ...), sends at
 * fixed rates on a schedule (open loop: latency is timed from the intended send time,
 * so a stalled server is charged for the whole wait), and records latencies into HDR
 * histograms that it returns to the harness encoded.
 *
 * Timestamps are microseconds on CLOCK_MONOTONIC (process.hrtime), which is shared by
 * every process on the machine, so a send in one generator and a receive in another
 * can be compared directly (group fan-out).
 */
import { randomUUID } from 'node:crypto';
import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import { encode, newHistogram, nowUs } from './lib/hist';
import type {
  AckMode,
  ClientSpec,
  ConnectResult,
  FanoutCollectResult,
  FanoutSendResult,
  GeneratorEnvelope,
  GeneratorMessage,
  GeneratorRequest,
  PairSpec,
  RateResult,
  SendResult,
  SendTarget,
  StatsResult,
  SyncRunResult,
} from './lib/protocol';

const index = Number(process.argv[2] ?? '0');
const addresses = (process.argv[3] ?? '127.0.0.1').split(',');

interface AckBody {
  ok?: boolean;
  error?: { code?: string };
  message?: { conversationId?: string; seq?: number };
  messages?: Array<{ id?: string; conversationId?: string; seq?: number }>;
  hasMore?: boolean;
}

const sockets = new Map<string, Socket>();
let addressCursor = index;
let disconnects = 0;
const disconnectReasons: Record<string, number> = {};
let pendingAcks = 0;

function nextAddress(): string {
  const address = addresses[addressCursor % addresses.length];
  addressCursor++;
  return address;
}

function pad(prefix: string, bytes: number): string {
  return prefix.length >= bytes ? prefix : prefix + 'x'.repeat(bytes - prefix.length);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function asAck(value: unknown): AckBody {
  return value && typeof value === 'object' ? value : {};
}

function codeOf(ack: AckBody): string {
  return ack.error?.code ?? 'UNKNOWN';
}

// ---------------------------------------------------------------- incoming messages

interface LatencyStep {
  step: number;
  total: number;
  seen: Uint8Array;
  received: number;
  duplicates: number;
  histogram: ReturnType<typeof newHistogram>;
}

interface FanoutWait {
  expect: number;
  receivedUs: number[];
  done: Promise<void>;
  finish: () => void;
}

let latencyStep: LatencyStep | undefined;
const fanouts = new Map<string, FanoutWait>();

// ---------------------------------------------------------------- client-like acks

/**
 * How receivers ack what they get, like a client: `delivered` (and with `read`, also
 * `read`) for the highest seq received per conversation, sent once `windowMs` has passed
 * since the first unacked message or once `maxPending` are unacked (0 ms: each at once).
 */
interface AutoAck {
  mode: AckMode;
  windowMs: number;
  maxPending: number;
}

interface PendingAck {
  socket: Socket;
  conversationId: string;
  seq: number;
  count: number;
  timer?: NodeJS.Timeout;
}

interface ReceiptWait {
  seq: number;
  status: 'delivered' | 'read';
  sentUs: number;
}

let autoAck: AutoAck | undefined;
const pendingByConversation = new Map<string, PendingAck>();
/** Acks sent and not yet answered by a `receipt` to the conversation's sender. */
const receiptWaits = new Map<string, ReceiptWait[]>();
let receiptHistogram: ReturnType<typeof newHistogram> | undefined;
const ackCounts = { delivered: 0, read: 0, errors: 0, receipts: 0 };

function scheduleAck(socket: Socket, conversationId: string, seq: number): void {
  const config = autoAck;
  if (!config || config.mode === 'none') return;
  let pending = pendingByConversation.get(conversationId);
  if (!pending) {
    pending = { socket, conversationId, seq, count: 0 };
    pendingByConversation.set(conversationId, pending);
    if (config.windowMs > 0) pending.timer = setTimeout(() => flushAck(pending!), config.windowMs);
  }
  pending.seq = Math.max(pending.seq, seq);
  pending.count++;
  if (config.windowMs <= 0 || pending.count >= config.maxPending) flushAck(pending);
}

function flushAck(pending: PendingAck): void {
  if (pendingByConversation.get(pending.conversationId) !== pending) return;
  pendingByConversation.delete(pending.conversationId);
  if (pending.timer) clearTimeout(pending.timer);
  const statuses: Array<'delivered' | 'read'> =
    autoAck?.mode === 'read' ? ['delivered', 'read'] : ['delivered'];
  for (const status of statuses) {
    const sentUs = nowUs();
    if (receiptHistogram) {
      const waits = receiptWaits.get(pending.conversationId) ?? [];
      waits.push({ seq: pending.seq, status, sentUs });
      receiptWaits.set(pending.conversationId, waits);
    }
    pendingAcks++;
    pending.socket.emit(
      'message:ack',
      { conversationId: pending.conversationId, seq: pending.seq, status },
      (response: unknown) => {
        pendingAcks--;
        if (asAck(response).ok) ackCounts[status]++;
        else ackCounts.errors++;
      },
    );
  }
}

/** A sender's `receipt`: every ack it covers has its receipt latency. */
function onReceipt(payload: unknown): void {
  const histogram = receiptHistogram;
  if (!histogram) return;
  const at = nowUs();
  const r = payload as { conversationId?: unknown; status?: unknown; seq?: unknown } | undefined;
  if (typeof r?.conversationId !== 'string' || typeof r.seq !== 'number') return;
  const waits = receiptWaits.get(r.conversationId);
  if (!waits) return;
  ackCounts.receipts++;
  const rest = waits.filter((w) => {
    if (w.status !== r.status || w.seq > (r.seq as number)) return true;
    histogram.recordValue(Math.max(1, at - w.sentUs));
    return false;
  });
  if (rest.length) receiptWaits.set(r.conversationId, rest);
  else receiptWaits.delete(r.conversationId);
}

function flushAllAcks(): void {
  for (const pending of [...pendingByConversation.values()]) flushAck(pending);
}

function onMessage(socket: Socket, payload: unknown): void {
  const at = nowUs();
  const message = payload as
    { body?: unknown; conversationId?: unknown; seq?: unknown } | undefined;
  const body = message?.body;
  if (typeof body !== 'string' || body.length < 2 || body[1] !== '|') return;
  if (
    (body[0] === 'L' || body[0] === 'S' || body[0] === 'F') &&
    typeof message?.conversationId === 'string' &&
    typeof message.seq === 'number'
  ) {
    scheduleAck(socket, message.conversationId, message.seq);
  }
  if (body[0] === 'L') {
    // L|step|k|intendedUs|padding
    const parts = body.split('|', 4);
    const current = latencyStep;
    if (!current || Number(parts[1]) !== current.step) return;
    const k = Number(parts[2]);
    if (!(k >= 0 && k < current.total)) return;
    if (current.seen[k]) {
      current.duplicates++;
      return;
    }
    current.seen[k] = 1;
    current.received++;
    current.histogram.recordValue(Math.max(1, at - Number(parts[3])));
  } else if (body[0] === 'F') {
    // F|tag|padding
    const tag = body.split('|', 3)[1];
    const wait = fanouts.get(tag);
    if (!wait) return;
    wait.receivedUs.push(at);
    if (wait.receivedUs.length >= wait.expect) wait.finish();
  }
}

// ---------------------------------------------------------------- commands

function connectOne(
  url: string,
  client: ClientSpec,
  timeoutMs: number,
): Promise<{ socket: Socket; us: number }> {
  const started = nowUs();
  const options: Partial<ManagerOptions & SocketOptions> & { localAddress: string } = {
    auth: client.auth,
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: timeoutMs,
    localAddress: nextAddress(),
  };
  const socket = io(url, options);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('connect timeout'));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve({ socket, us: nowUs() - started });
    });
    socket.once('connect_error', (error: Error) => {
      clearTimeout(timer);
      socket.close();
      reject(error);
    });
  });
}

/** Runs fn over items with at most `concurrency` at once. */
async function pool<T>(
  items: T[],
  concurrency: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++];
      await fn(item);
    }
  });
  await Promise.all(workers);
}

async function connect(
  url: string,
  clients: ClientSpec[],
  concurrency: number,
  timeoutMs: number,
): Promise<ConnectResult> {
  const started = Date.now();
  const histogram = newHistogram();
  let connected = 0;
  let failed = 0;
  const errors: string[] = [];
  await pool(clients, concurrency, async (client) => {
    try {
      const { socket, us } = await connectOne(url, client, timeoutMs);
      histogram.recordValue(Math.max(1, us));
      socket.on('message:new', (payload: unknown) => onMessage(socket, payload));
      socket.on('receipt', onReceipt);
      socket.on('disconnect', (reason: string) => {
        if (sockets.get(client.key) !== socket) return;
        disconnects++;
        disconnectReasons[reason] = (disconnectReasons[reason] ?? 0) + 1;
        sockets.delete(client.key);
      });
      sockets.get(client.key)?.close();
      sockets.set(client.key, socket);
      connected++;
    } catch (error) {
      failed++;
      if (errors.length < 5) errors.push(error instanceof Error ? error.message : String(error));
    }
  });
  const result: ConnectResult = {
    connected,
    failed,
    errors,
    histogram: encode(histogram),
    ms: Date.now() - started,
  };
  histogram.destroy();
  return result;
}

async function close(keys?: string[]): Promise<number> {
  const chosen = keys ?? [...sockets.keys()];
  let closed = 0;
  for (const key of chosen) {
    const socket = sockets.get(key);
    if (!socket) continue;
    sockets.delete(key);
    socket.close();
    closed++;
    if (closed % 1000 === 0) await sleep(0);
  }
  return closed;
}

function socketOf(key: string): Socket {
  const socket = sockets.get(key);
  if (!socket) throw new Error(`no open socket ${key}`);
  return socket;
}

async function join(keys: string[], room: string, concurrency: number): Promise<number> {
  let joined = 0;
  await pool(keys, concurrency, async (key) => {
    const ack = asAck(await socketOf(key).timeout(10_000).emitWithAck('relay:join', { room }));
    if (ack.ok) joined++;
  });
  return joined;
}

async function rate(
  req: Extract<GeneratorRequest, { cmd: 'rate' }>,
  stepSenders: Array<{ socket: Socket; target: SendTarget }>,
): Promise<RateResult> {
  const total = Math.max(1, Math.round((req.ratePerSec * req.durationMs) / 1000));
  const intervalUs = 1e6 / req.ratePerSec;
  const histogram = newHistogram();
  const ackHistogram = newHistogram();
  const lagHistogram = newHistogram();
  const step: LatencyStep = {
    step: req.step,
    total,
    seen: new Uint8Array(total),
    received: 0,
    duplicates: 0,
    histogram,
  };
  latencyStep = step;
  autoAck = { mode: req.acks, windowMs: req.ackWindowMs, maxPending: req.ackMaxPending };
  const receipts = newHistogram();
  receiptHistogram = req.acks === 'none' ? undefined : receipts;
  receiptWaits.clear();
  Object.assign(ackCounts, { delivered: 0, read: 0, errors: 0, receipts: 0 });
  const errorCodes: Record<string, number> = {};
  let sent = 0;
  let acked = 0;
  let ackErrors = 0;
  let aborted: string | undefined;
  const start = nowUs() + 5000;

  // No per-send timer: acks still missing when the step is reported count as timeouts.
  let stepPending = 0;
  const send = (k: number, intended: number) => {
    const { socket, target } = stepSenders[k % stepSenders.length];
    const body = pad(`L|${req.step}|${k}|${Math.round(intended)}|`, req.bodyBytes);
    pendingAcks++;
    stepPending++;
    socket.emit(
      'message:send',
      { clientMsgId: randomUUID(), ...target, type: 'text', body },
      (response: unknown) => {
        pendingAcks--;
        stepPending--;
        const ack = asAck(response);
        if (ack.ok) {
          acked++;
          ackHistogram.recordValue(Math.max(1, nowUs() - intended));
        } else {
          ackErrors++;
          const code = codeOf(ack);
          errorCodes[code] = (errorCodes[code] ?? 0) + 1;
        }
      },
    );
  };

  let lastSendUs = start;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = nowUs();
      let burst = 0;
      while (sent < total && burst < 500) {
        const intended = start + sent * intervalUs;
        if (intended > now) break;
        if (sent - step.received - ackErrors > req.backlogLimit) {
          aborted = `backlog: more than ${req.backlogLimit} messages sent and not yet received`;
          break;
        }
        lagHistogram.recordValue(Math.max(1, now - intended));
        send(sent, intended);
        sent++;
        burst++;
      }
      lastSendUs = now;
      if (sent >= total || aborted) {
        resolve();
        return;
      }
      const waitMs = (start + sent * intervalUs - nowUs()) / 1000;
      if (burst >= 500 || waitMs <= 0) setImmediate(tick);
      else setTimeout(tick, Math.min(waitMs, 5));
    };
    setTimeout(tick, 5);
  });
  const sendSeconds = Math.max(1e-6, (lastSendUs - start) / 1e6);

  // Drain: wait for what was sent to arrive (bounded).
  const deadline = Date.now() + req.drainMs;
  while (Date.now() < deadline) {
    if (step.received + ackErrors >= sent && stepPending === 0) break;
    await sleep(20);
  }
  // What is left in an ack window goes now; then wait (bounded) for the acks and receipts.
  flushAllAcks();
  autoAck = undefined;
  const receiptDeadline = Date.now() + 5000;
  while (Date.now() < receiptDeadline && (pendingAcks > 0 || receiptWaits.size > 0)) {
    await sleep(20);
  }
  receiptHistogram = undefined;
  latencyStep = undefined;
  const result: RateResult = {
    step: req.step,
    planned: total,
    sent,
    acked,
    ackErrors,
    ackTimeouts: stepPending,
    errorCodes,
    received: step.received,
    duplicates: step.duplicates,
    histogram: encode(histogram),
    ackHistogram: encode(ackHistogram),
    lagHistogram: encode(lagHistogram),
    receiptHistogram: encode(receipts),
    acks: {
      ...ackCounts,
      unanswered: [...receiptWaits.values()].reduce((n, w) => n + w.length, 0),
    },
    sendSeconds,
    aborted,
  };
  receiptWaits.clear();
  receipts.destroy();
  histogram.destroy();
  ackHistogram.destroy();
  lagHistogram.destroy();
  return result;
}

function fanoutArm(tag: string, expect: number, timeoutMs: number, acks: AckMode): void {
  // Recipients ack each message at once, as a client with the chat list open does.
  autoAck = acks === 'none' ? undefined : { mode: acks, windowMs: 0, maxPending: 1 };
  let finish = () => undefined as void;
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    finish = () => {
      clearTimeout(timer);
      resolve();
    };
  });
  const wait: FanoutWait = { expect, receivedUs: [], done, finish };
  fanouts.set(tag, wait);
  if (expect <= 0) finish();
}

async function fanoutCollect(tag: string): Promise<FanoutCollectResult> {
  const wait = fanouts.get(tag);
  if (!wait) throw new Error(`fan-out ${tag} was not armed`);
  await wait.done;
  fanouts.delete(tag);
  return { count: wait.receivedUs.length, receivedUs: wait.receivedUs };
}

async function fanoutSend(
  tag: string,
  key: string,
  conversationId: string,
  bodyBytes: number,
): Promise<FanoutSendResult> {
  const socket = socketOf(key);
  const sentUs = nowUs();
  const ack = asAck(
    await socket.timeout(30_000).emitWithAck('message:send', {
      clientMsgId: randomUUID(),
      conversationId,
      type: 'text',
      body: pad(`F|${tag}|`, bodyBytes),
    }),
  );
  return {
    sentUs,
    ackUs: nowUs(),
    ok: !!ack.ok,
    error: ack.ok ? undefined : codeOf(ack),
    seq: ack.message?.seq,
  };
}

let bulkCounter = 0;

async function sendMany(req: Extract<GeneratorRequest, { cmd: 'send' }>): Promise<SendResult> {
  const socket = socketOf(req.key);
  if (req.receiverAcks) {
    autoAck = { mode: req.receiverAcks, windowMs: 0, maxPending: 1 };
    Object.assign(ackCounts, { delivered: 0, read: 0, errors: 0, receipts: 0 });
  }
  const started = Date.now();
  const batch = ++bulkCounter;
  const errorCodes: Record<string, number> = {};
  let ok = 0;
  let errors = 0;
  let target: SendTarget = req.target;
  let conversationId: string | undefined;
  let lastSeq: number | undefined;
  const one = async (k: number) => {
    const ack = asAck(
      await socket.timeout(req.timeoutMs).emitWithAck('message:send', {
        clientMsgId: randomUUID(),
        ...target,
        type: 'text',
        body: pad(`S|${batch}|${k}|`, req.bodyBytes),
      }),
    );
    if (ack.ok) {
      ok++;
      conversationId ??= ack.message?.conversationId;
      const seq = ack.message?.seq;
      if (typeof seq === 'number') lastSeq = Math.max(lastSeq ?? 0, seq);
    } else {
      errors++;
      const code = codeOf(ack);
      errorCodes[code] = (errorCodes[code] ?? 0) + 1;
    }
  };
  if (req.count > 0) {
    await one(0);
    if (req.switchToConversation && conversationId) target = { conversationId };
  }
  const rest = Array.from({ length: Math.max(0, req.count - 1) }, (_, i) => i + 1);
  await pool(rest, Math.max(1, req.window), one);
  let acks: SendResult['acks'];
  if (req.receiverAcks) {
    // Every message is received and acked before the figure is taken (bounded wait).
    const expected = ok * (req.receiverAcks === 'read' ? 2 : 1);
    const deadline = Date.now() + req.timeoutMs;
    const acked = () => ackCounts.delivered + ackCounts.read + ackCounts.errors;
    while (Date.now() < deadline && (acked() < expected || pendingAcks > 0)) await sleep(10);
    autoAck = undefined;
    acks = { ...ackCounts, unanswered: Math.max(0, expected - acked()) };
  }
  return { ok, errors, errorCodes, ms: Date.now() - started, conversationId, lastSeq, acks };
}

async function ackOne(req: Extract<GeneratorRequest, { cmd: 'ack' }>): Promise<boolean> {
  const ack = asAck(
    await socketOf(req.key).timeout(10_000).emitWithAck('message:ack', {
      conversationId: req.conversationId,
      seq: req.seq,
      status: req.status,
    }),
  );
  if (!ack.ok) throw new Error(`message:ack failed: ${codeOf(ack)}`);
  return true;
}

async function syncRun(req: Extract<GeneratorRequest, { cmd: 'syncRun' }>): Promise<SyncRunResult> {
  const t0 = nowUs();
  const result: SyncRunResult = {
    connectMs: NaN,
    firstBatchMs: NaN,
    totalMs: NaN,
    batches: 0,
    messages: 0,
    unique: 0,
    ackErrors: 0,
    syncErrors: 0,
    inOrder: true,
    complete: false,
  };
  const deadline = Date.now() + req.timeoutMs;
  let socket: Socket | undefined;
  try {
    ({ socket } = await connectOne(req.url, { key: 'sync', auth: { token: req.token } }, 10_000));
    result.connectMs = (nowUs() - t0) / 1000;
    const ids = new Set<string>();
    const lastSeq = new Map<string, number>();
    const maxBatches = Math.ceil(req.expected / req.limit) + 20;
    for (let batch = 0; batch < maxBatches && Date.now() < deadline; batch++) {
      const ack = asAck(
        await socket.timeout(Math.max(1, deadline - Date.now())).emitWithAck('sync', {
          limit: req.limit,
        }),
      );
      if (!ack.ok) {
        result.syncErrors++;
        result.error = codeOf(ack);
        break;
      }
      result.batches++;
      const messages = ack.messages ?? [];
      const top = new Map<string, number>();
      for (const m of messages) {
        result.messages++;
        if (m.id) ids.add(m.id);
        if (!m.conversationId || typeof m.seq !== 'number') continue;
        const previous = lastSeq.get(m.conversationId) ?? 0;
        if (m.seq <= previous) result.inOrder = false;
        lastSeq.set(m.conversationId, m.seq);
        top.set(m.conversationId, Math.max(top.get(m.conversationId) ?? 0, m.seq));
      }
      const acks = await Promise.all(
        [...top].map(([conversationId, seq]) =>
          socket!
            .timeout(Math.max(1, deadline - Date.now()))
            .emitWithAck('message:ack', { conversationId, seq, status: 'delivered' }),
        ),
      );
      result.ackErrors += acks.filter((a) => !asAck(a).ok).length;
      if (batch === 0) result.firstBatchMs = (nowUs() - t0) / 1000;
      if (!ack.hasMore) {
        result.complete = true;
        break;
      }
    }
    result.totalMs = (nowUs() - t0) / 1000;
    result.unique = ids.size;
  } catch (error) {
    result.error = error instanceof Error ? error.message : String(error);
  } finally {
    socket?.close();
  }
  return result;
}

function stats(): StatsResult {
  const memory = process.memoryUsage();
  return {
    sockets: sockets.size,
    disconnects,
    disconnectReasons,
    rssBytes: memory.rss,
    heapUsedBytes: memory.heapUsed,
  };
}

async function handle(request: GeneratorRequest): Promise<unknown> {
  switch (request.cmd) {
    case 'connect':
      return connect(request.url, request.clients, request.concurrency, request.timeoutMs);
    case 'close':
      return close(request.keys);
    case 'join':
      return join(request.keys, request.room, request.concurrency);
    case 'rate': {
      const senders = request.pairs.map((p: PairSpec) => ({
        socket: socketOf(p.sender),
        target: p.target,
      }));
      for (const p of request.pairs) socketOf(p.receiver);
      return rate(request, senders);
    }
    case 'outstanding':
      return pendingAcks;
    case 'fanoutArm':
      fanoutArm(request.tag, request.expect, request.timeoutMs, request.acks ?? 'none');
      return true;
    case 'fanoutCollect':
      return fanoutCollect(request.tag);
    case 'fanoutSend':
      return fanoutSend(request.tag, request.key, request.conversationId, request.bodyBytes);
    case 'send':
      return sendMany(request);
    case 'ack':
      return ackOne(request);
    case 'syncRun':
      return syncRun(request);
    case 'stats':
      return stats();
    case 'exit':
      await close();
      setTimeout(() => process.exit(0), 50);
      return true;
  }
}

function reply(message: GeneratorMessage): void {
  if (process.connected) process.send?.(message);
}

process.on('message', (envelope: GeneratorEnvelope) => {
  handle(envelope.request).then(
    (result) => reply({ kind: 'response', id: envelope.id, ok: true, result }),
    (error: unknown) =>
      reply({
        kind: 'response',
        id: envelope.id,
        ok: false,
        error: error instanceof Error ? error.message : String(error),
      }),
  );
});
// The harness went away: never outlive it.
process.on('disconnect', () => process.exit(0));
reply({ kind: 'ready', index });
