import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { crossSettingProblems, environmentSchema, type Environment } from './config.schema';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * The validated configuration tree, injected wherever settings are needed.
 * Instances are immutable; build them with {@link loadConfig}.
 */
export class AppConfig {
  readonly env: Environment['NODE_ENV'];
  readonly http: { port: number; host: string; corsOrigin: string };
  readonly dataDir: string;
  readonly logLevel: Environment['LOG_LEVEL'];
  readonly role: Environment['APP_ROLE'];
  readonly database: {
    url: string | undefined;
    poolSize: number;
    runMigrations: boolean;
    embeddedMaxConnections: number;
  };
  readonly redis: { url: string | undefined };
  readonly auth: {
    jwtSecret: string;
    accessTtlSec: number;
    refreshTtlDays: number;
    testOtp: string | undefined;
    otpTtlSec: number;
    otpMaxAttempts: number;
    otpMaxPerWindow: number;
    otpWindowSec: number;
  };
  readonly sms: { driver: Environment['SMS_DRIVER']; webhookUrl: string | undefined };
  readonly messages: {
    rateLimitPerMinute: number;
    retentionDays: number;
    syncDefaultLimit: number;
    syncMaxLimit: number;
  };
  readonly realtime: { maxPayloadBytes: number };
  readonly presence: { graceMs: number; ttlMs: number; heartbeatMs: number };
  readonly typing: { throttleMs: number; ttlMs: number };
  readonly queue: { concurrency: number; attempts: number; lockMs: number };
  readonly shutdownGraceMs: number;

  constructor(e: Environment, jwtSecret: string) {
    this.env = e.NODE_ENV;
    this.http = { port: e.PORT, host: e.HOST, corsOrigin: e.CORS_ORIGIN };
    this.dataDir = resolve(e.DATA_DIR);
    this.logLevel = e.LOG_LEVEL;
    this.role = e.APP_ROLE;
    this.database = {
      url: e.DATABASE_URL,
      poolSize: e.DATABASE_POOL_SIZE,
      runMigrations: e.DATABASE_RUN_MIGRATIONS,
      embeddedMaxConnections: e.EMBEDDED_DB_MAX_CONNECTIONS,
    };
    this.redis = { url: e.REDIS_URL };
    this.auth = {
      jwtSecret,
      accessTtlSec: e.JWT_ACCESS_TTL_SEC,
      refreshTtlDays: e.REFRESH_TOKEN_TTL_DAYS,
      testOtp: e.AUTH_TEST_OTP,
      otpTtlSec: e.OTP_TTL_SEC,
      otpMaxAttempts: e.OTP_MAX_ATTEMPTS,
      otpMaxPerWindow: e.OTP_MAX_PER_WINDOW,
      otpWindowSec: e.OTP_WINDOW_SEC,
    };
    this.sms = { driver: e.SMS_DRIVER, webhookUrl: e.SMS_WEBHOOK_URL };
    this.messages = {
      rateLimitPerMinute: e.MESSAGE_RATE_LIMIT_PER_MINUTE,
      retentionDays: e.MESSAGE_RETENTION_DAYS,
      syncDefaultLimit: e.SYNC_DEFAULT_LIMIT,
      syncMaxLimit: e.SYNC_MAX_LIMIT,
    };
    this.realtime = { maxPayloadBytes: e.SOCKET_MAX_PAYLOAD_BYTES };
    this.presence = {
      graceMs: e.PRESENCE_GRACE_MS,
      ttlMs: e.PRESENCE_TTL_MS,
      heartbeatMs: e.PRESENCE_HEARTBEAT_MS,
    };
    this.typing = { throttleMs: e.TYPING_THROTTLE_MS, ttlMs: e.TYPING_TTL_MS };
    this.queue = {
      concurrency: e.QUEUE_CONCURRENCY,
      attempts: e.QUEUE_ATTEMPTS,
      lockMs: e.QUEUE_LOCK_MS,
    };
    this.shutdownGraceMs = e.SHUTDOWN_GRACE_MS;
  }

  get embeddedDatabase(): boolean {
    return !this.database.url;
  }

  get runsApi(): boolean {
    return this.role !== 'worker';
  }

  get runsWorkers(): boolean {
    return this.role !== 'api';
  }
}

export type EnvironmentSource = Record<string, string | undefined>;

/** Validates settings and builds the config; throws {@link ConfigError} naming each bad setting. */
export function loadConfig(source: EnvironmentSource): AppConfig {
  const cleaned: EnvironmentSource = {};
  for (const [key, value] of Object.entries(source)) {
    if (value !== undefined && value !== '') cleaned[key] = value;
  }
  const parsed = environmentSchema.safeParse(cleaned);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${issue.path.join('.') || 'config'}: ${issue.message}`);
  problems.push(...crossSettingProblems(cleaned));
  if (!parsed.success || problems.length) throw new ConfigError(problems);
  const env = parsed.data;
  return new AppConfig(env, env.JWT_SECRET ?? persistedSecret(resolve(env.DATA_DIR)));
}

/**
 * Without JWT_SECRET (development and the embedded default) a random secret is kept
 * under DATA_DIR so tokens survive restarts; several instances must share JWT_SECRET.
 */
function persistedSecret(dataDir: string): string {
  const file = join(dataDir, 'jwt-secret');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    mkdirSync(dataDir, { recursive: true });
    const secret = randomBytes(48).toString('base64url');
    writeFileSync(file, secret, { mode: 0o600 });
    return secret;
  }
}

/** The one place that reads the process environment. */
export function loadConfigFromProcess(overrides: EnvironmentSource = {}): AppConfig {
  return loadConfig({ ...process.env, ...overrides });
}

/** Reads one raw variable for tooling that runs outside the app (tests, bench, CLI). */
export function readProcessEnv(name: string): string | undefined {
  const value = process.env[name];
  return value === '' ? undefined : value;
}

/** A copy of the whole environment, for tooling that starts Parley processes (tests, bench). */
export function processEnvironment(): EnvironmentSource {
  return { ...process.env };
}
