import { Logger } from '@nestjs/common';
import {
  OnGatewayConnection,
  OnGatewayDisconnect,
  OnGatewayInit,
  WebSocketGateway,
} from '@nestjs/websockets';
import type { Counter, Gauge, Histogram } from 'prom-client';
import type { Server, Socket } from 'socket.io';
import { AccessTokenVerifier, type AuthContext } from '../auth/auth-context';
import { AppConfig } from '../config/app-config';
import { AppError, ErrorCode, toAppError } from '../errors';
import { ClientAddress } from '../http/client-address';
import { RateLimiter } from '../rate-limit/rate-limiter';
import { LifecycleState } from '../health/lifecycle.state';
import { errorCounter, MetricsRegistry } from '../metrics/metrics.registry';
import { assertNoNulCharacter } from '../validation/text-safety';
import { validateDto } from '../validation/validate';
import { RealtimeEmitter } from './realtime.emitter';
import { SocketLifecycle } from './socket-lifecycle';
import { deviceRoom, userRoom } from './rooms';
import { SocketEventRegistry, type SocketContext } from './socket-event.registry';
import type { AckResponse } from './socket-events';

type Ack = (response: AckResponse) => void;

interface SocketData {
  auth?: AuthContext;
}

function tokenOf(socket: Socket): string | undefined {
  const auth = socket.handshake.auth as Record<string, unknown> | undefined;
  if (typeof auth?.token === 'string') return auth.token;
  const header = socket.handshake.headers.authorization;
  if (typeof header === 'string' && header.startsWith('Bearer ')) return header.slice(7);
  return undefined;
}

/**
 * The realtime entry point: authenticates the handshake, joins the user and device rooms,
 * and dispatches every client event through the registry so that each one is validated
 * and answered with an ack, and no input can throw out of a socket handler.
 */
@WebSocketGateway()
export class RealtimeGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect {
  private readonly logger = new Logger('Realtime');
  private readonly connections: Gauge;
  private readonly events: Counter;
  private readonly eventSeconds: Histogram;
  private readonly errors: Counter;
  private inFlight = 0;
  private readonly clientAddress: ClientAddress;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly verifier: AccessTokenVerifier,
    private readonly registry: SocketEventRegistry,
    private readonly emitter: RealtimeEmitter,
    private readonly lifecycle: SocketLifecycle,
    private readonly state: LifecycleState,
    private readonly limiter: RateLimiter,
    private readonly config: AppConfig,
    metrics: MetricsRegistry,
  ) {
    this.clientAddress = new ClientAddress(config.http.trustProxy);
    this.connections = metrics.gauge('parley_socket_connections', 'Connected Socket.IO clients');
    this.events = metrics.counter(
      'parley_socket_events_total',
      'Client-to-server socket events by outcome (ok, or the error code)',
      ['event', 'outcome'],
    );
    // For message:send this is the sent tick as the server sees it: receipt to ack.
    this.eventSeconds = metrics.histogram(
      'parley_socket_event_duration_seconds',
      'Time from a socket event arriving to its ack',
      ['event'],
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    );
    this.errors = errorCounter(metrics);
  }

  afterInit(server: Server): void {
    this.emitter.attach(server);
    server.use((socket, next) => {
      this.limitConnections(socket).then(next, () =>
        next(new Error(ErrorCode.SERVICE_UNAVAILABLE)),
      );
    });
    server.use((socket, next) => {
      if (this.state.isDraining) {
        next(new Error('SERVICE_UNAVAILABLE'));
        return;
      }
      const token = tokenOf(socket);
      if (!token) {
        next(new Error('UNAUTHORIZED'));
        return;
      }
      this.verifier.verify(token).then(
        (auth) => {
          (socket.data as SocketData).auth = auth;
          next();
        },
        // A token that cannot be checked because a backend is down is not a bad token:
        // the client is told to retry, as REST callers are, instead of to sign in again.
        (error: unknown) =>
          next(
            new Error(
              toAppError(error).error.code === ErrorCode.SERVICE_UNAVAILABLE
                ? 'SERVICE_UNAVAILABLE'
                : 'UNAUTHORIZED',
            ),
          ),
      );
    });
  }

  /**
   * Handshakes per client address per minute (SOCKET_CONNECTIONS_PER_IP_PER_MINUTE), before
   * any token is checked: a reconnect loop costs a database read per attempt otherwise.
   */
  private async limitConnections(socket: Socket): Promise<Error | undefined> {
    const limit = this.config.realtime.connectionsPerIpPerMinute;
    if (limit <= 0) return undefined;
    const ip = this.clientAddress.of(socket.request);
    const decision = await this.limiter.consume(`socket-conn:${ip}`, limit, 60_000);
    if (decision.allowed) return undefined;
    const refused = new Error(ErrorCode.RATE_LIMITED) as Error & { data?: object };
    refused.data = { retryAfterMs: decision.retryAfterMs };
    return refused;
  }

  async handleConnection(socket: Socket): Promise<void> {
    const auth = (socket.data as SocketData).auth;
    if (!auth) {
      socket.disconnect(true);
      return;
    }
    this.connections.inc();
    await socket.join([userRoom(auth.userId), deviceRoom(auth.deviceId)]);
    const ctx: SocketContext = { ...auth, socket };
    socket.onAny((event: unknown, ...args: unknown[]) => {
      void this.dispatch(ctx, event, args);
    });
    this.lifecycle.connected(ctx);
  }

  handleDisconnect(socket: Socket): void {
    const auth = (socket.data as SocketData).auth;
    if (!auth) return;
    this.connections.dec();
    this.lifecycle.disconnected({ ...auth, socket });
  }

  private async dispatch(ctx: SocketContext, event: unknown, args: unknown[]): Promise<void> {
    const last = args.length ? args[args.length - 1] : undefined;
    const ack: Ack | undefined = typeof last === 'function' ? (last as Ack) : undefined;
    const payload = ack ? (args.length > 1 ? args[0] : undefined) : args[0];
    const definition = typeof event === 'string' ? this.registry.get(event) : undefined;
    if (!definition) {
      this.events.inc({ event: 'unknown', outcome: ErrorCode.VALIDATION_FAILED });
      this.errors.inc({ code: ErrorCode.VALIDATION_FAILED, transport: 'socket' });
      ack?.({
        ok: false,
        error: AppError.validation(
          `Unknown event ${JSON.stringify(String(event)).slice(0, 80)}`,
        ).toBody(),
      });
      return;
    }
    this.inFlight++;
    const started = process.hrtime.bigint();
    const name = event as string;
    try {
      let input: object = {};
      assertNoNulCharacter(payload);
      if (definition.parse) input = definition.parse(payload);
      else if (definition.dto) input = validateDto(definition.dto, payload ?? {});
      const result = await definition.handler(ctx, input);
      ack?.({ ok: true, ...(result ?? {}) });
      this.events.inc({ event: name, outcome: 'ok' });
    } catch (thrown) {
      const { error, unexpected } = toAppError(thrown);
      if (unexpected) this.logger.error({ err: thrown, event }, 'socket handler failed');
      ack?.({ ok: false, error: error.toBody() });
      this.events.inc({ event: name, outcome: error.code });
      this.errors.inc({ code: error.code, transport: 'socket' });
    } finally {
      this.eventSeconds.observe({ event: name }, Number(process.hrtime.bigint() - started) / 1e9);
      this.inFlight--;
      if (!this.inFlight) for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  /** Resolves when no client event is being handled (graceful shutdown), or after timeoutMs. */
  async whenIdle(timeoutMs: number): Promise<void> {
    if (!this.inFlight) return;
    await Promise.race([
      new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
      new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref()),
    ]);
  }
}
