/**
 * The baseline: a bare Socket.IO relay with no auth and no storage. Same socket.io
 * version and server settings as Parley (websocket transport, 1 MiB frames, 25 s ping),
 * and the same payloads: `message:send` is answered with a message object of Parley's
 * shape and forwarded as `message:new` to the conversation's room, except the sending
 * socket; `message:ack` is answered and passed on as a `receipt` to the conversation's
 * last sender. Clients identify with `auth: { userId }` and join conversation rooms with
 * `relay:join { room }`.
 *
 * GET /metrics reports nodejs_heap_size_used_bytes and process_resident_memory_bytes
 * under the same names as Parley's, so the harness reads both servers the same way.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { Server, type Socket } from 'socket.io';

type Ack = (response: object) => void;

interface SendPayload {
  clientMsgId?: unknown;
  conversationId?: unknown;
  recipientId?: unknown;
  type?: unknown;
  body?: unknown;
}

const port = Number(process.argv[2] ?? '0');
const host = process.argv[3] ?? '127.0.0.1';
let connections = 0;
let relayed = 0;
const seqs = new Map<string, number>();
/** The last sender per conversation: where a `receipt` for it goes. */
const senders = new Map<string, string>();

const http = createServer((req, res) => {
  if (req.url === '/metrics') {
    const memory = process.memoryUsage();
    res.setHeader('content-type', 'text/plain; version=0.0.4');
    res.end(
      [
        `nodejs_heap_size_used_bytes ${memory.heapUsed}`,
        `nodejs_heap_size_total_bytes ${memory.heapTotal}`,
        `process_resident_memory_bytes ${memory.rss}`,
        `relay_socket_connections ${connections}`,
        `relay_messages_total ${relayed}`,
        '',
      ].join('\n'),
    );
    return;
  }
  if (req.url === '/health/ready' || req.url === '/health/live') {
    res.end('{"status":"ok"}');
    return;
  }
  res.statusCode = 404;
  res.end();
});

const io = new Server(http, {
  maxHttpBufferSize: 1024 * 1024,
  pingInterval: 25000,
  pingTimeout: 20000,
  cors: { origin: true },
});

io.use((socket, next) => {
  const userId = (socket.handshake.auth as { userId?: unknown } | undefined)?.userId;
  if (typeof userId !== 'string' || !userId) {
    next(new Error('UNAUTHORIZED'));
    return;
  }
  (socket.data as { userId?: string }).userId = userId;
  next();
});

function ackOf(args: unknown[]): Ack | undefined {
  const last = args[args.length - 1];
  return typeof last === 'function' ? (last as Ack) : undefined;
}

io.on('connection', (socket: Socket) => {
  connections++;
  const userId = (socket.data as { userId: string }).userId;
  void socket.join(`user:${userId}`);
  socket.on('disconnect', () => connections--);

  socket.on('relay:join', (...args: unknown[]) => {
    const room = (args[0] as { room?: unknown } | undefined)?.room;
    const ack = ackOf(args);
    if (typeof room !== 'string') {
      ack?.({ ok: false, error: { code: 'VALIDATION_FAILED', message: 'room' } });
      return;
    }
    void socket.join(`conv:${room}`);
    ack?.({ ok: true });
  });

  socket.on('message:send', (...args: unknown[]) => {
    const input = (args[0] ?? {}) as SendPayload;
    const ack = ackOf(args);
    const conversationId =
      typeof input.conversationId === 'string' ? input.conversationId : undefined;
    const recipientId = typeof input.recipientId === 'string' ? input.recipientId : undefined;
    if (!conversationId && !recipientId) {
      ack?.({ ok: false, error: { code: 'VALIDATION_FAILED', message: 'no target' } });
      return;
    }
    const key = conversationId ?? recipientId!;
    const seq = (seqs.get(key) ?? 0) + 1;
    seqs.set(key, seq);
    const message = {
      id: randomUUID(),
      conversationId: key,
      seq,
      senderId: userId,
      senderDeviceId: userId,
      clientMsgId: input.clientMsgId,
      type: input.type,
      body: input.body,
      mediaId: null,
      replyToId: null,
      createdAt: new Date().toISOString(),
      editedAt: null,
      deletedAt: null,
    };
    relayed++;
    senders.set(key, userId);
    const room = conversationId ? `conv:${conversationId}` : `user:${recipientId}`;
    socket.to(room).emit('message:new', message);
    ack?.({ ok: true, message });
  });

  // A client's ack, answered and passed on as a `receipt` to the conversation's room
  // (Parley's shape), so the relay carries the same acks per message as Parley.
  socket.on('message:ack', (...args: unknown[]) => {
    const input = (args[0] ?? {}) as { conversationId?: unknown; seq?: unknown; status?: unknown };
    const ack = ackOf(args);
    if (
      typeof input.conversationId !== 'string' ||
      typeof input.seq !== 'number' ||
      (input.status !== 'delivered' && input.status !== 'read')
    ) {
      ack?.({ ok: false, error: { code: 'VALIDATION_FAILED', message: 'ack' } });
      return;
    }
    const receipt = {
      conversationId: input.conversationId,
      userId,
      status: input.status,
      seq: input.seq,
      at: new Date().toISOString(),
    };
    const sender = senders.get(input.conversationId);
    if (sender) socket.to(`user:${sender}`).emit('receipt', receipt);
    ack?.({ ok: true });
  });
});

http.listen(port, host, () => {
  const address = http.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  process.send?.({ kind: 'listening', port: bound });
});

const stop = () => {
  void io.close();
  setTimeout(() => process.exit(0), 500).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);
