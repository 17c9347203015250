import { resolve } from 'node:path';
import { crossSettingProblems, environmentSchema, type Environment } from './config.schema';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface PushSettings {
  /** How long a message waits for its devices to fetch it before they are pushed. */
  delayMs: number;
  /** Message pushes per device and conversation in any minute; 0 = unlimited. */
  perConversationPerMinute: number;
  /** Lets client-chosen endpoints (Web Push, UnifiedPush) be private addresses or http://. */
  allowPrivateEndpoints: boolean;
  timeoutMs: number;
  /** FCM is sent when set; otherwise FCM tokens go to the log driver. */
  fcmServiceAccountFile: string | undefined;
  /** APNs (and VoIP) is sent when set; otherwise APNs tokens go to the log driver. */
  apns:
    | { keyFile: string; keyId: string; teamId: string; bundleId: string; production: boolean }
    | undefined;
  /** Unset: generated into DATA_DIR on first start (fine for one box; share them when scaled). */
  vapid: { publicKey: string; privateKey: string } | undefined;
  vapidSubject: string;
}

export interface S3Settings {
  bucket: string;
  /** Unset: AWS S3 itself. */
  endpoint: string | undefined;
  /** Where clients reach the store, when it differs from `endpoint` (presigned URLs). */
  publicEndpoint: string | undefined;
  region: string;
  /** Unset: the AWS SDK's default credential chain (environment, instance role, ...). */
  credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
  forcePathStyle: boolean;
  requestChecksumCalculation: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED';
  responseChecksumValidation: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED';
  /** Downloads answer with a redirect to a presigned URL (true) or stream through Parley. */
  presignedDownloads: boolean;
}

export type CassandraConsistency = Environment['CASSANDRA_READ_CONSISTENCY'];

export interface CassandraSettings {
  /** host or host:port (9042 when no port is given). */
  contactPoints: string[];
  localDataCenter: string;
  keyspace: string;
  /** The keyspace's replication map, as CQL's CREATE KEYSPACE takes it. */
  replication: Record<string, string | number>;
  credentials: { username: string; password: string } | undefined;
  readConsistency: CassandraConsistency;
  writeConsistency: CassandraConsistency;
  /** Seqs per partition: one conversation's history spreads over partitions of this many. */
  seqBucketSize: number;
  /** Rows fetched per request when a read pages through a range. */
  pageSize: number;
  requestTimeoutMs: number;
}

/** `SimpleStrategy:3` or `NetworkTopologyStrategy:dc1=3,dc2=2` as a replication map. */
function parseReplication(value: string): Record<string, string | number> {
  const [strategy, rest] = value.split(':') as [string, string];
  if (strategy === 'SimpleStrategy') return { class: strategy, replication_factor: Number(rest) };
  const map: Record<string, string | number> = { class: strategy };
  for (const pair of rest.split(',')) {
    const [dc, factor] = pair.split('=') as [string, string];
    map[dc] = Number(factor);
  }
  return map;
}

/**
 * The validated configuration tree, injected wherever settings are needed.
 * Instances are immutable; build them with {@link loadConfig}.
 */
export class AppConfig {
  readonly env: Environment['NODE_ENV'];
  readonly http: {
    port: number;
    host: string;
    corsOrigin: string;
    /** Proxies whose X-Forwarded-For is believed (addresses, ranges, Express presets). */
    trustProxy: string[];
  };
  readonly dataDir: string;
  /** The built web client served at `/`; a directory without index.html serves nothing. */
  readonly webDir: string;
  readonly logLevel: Environment['LOG_LEVEL'];
  readonly role: Environment['APP_ROLE'];
  readonly database: {
    url: string | undefined;
    poolSize: number;
    runMigrations: boolean;
    embeddedMaxConnections: number;
  };
  readonly redis: { url: string | undefined; keyPrefix: string };
  /** Where message history lives: PostgreSQL, or Cassandra beside it (ADR 0018). */
  readonly messageStore: Environment['MESSAGE_STORE'];
  readonly cassandra: CassandraSettings;
  readonly auth: {
    /** Set: the one signing key, as before. Unset: keys live in the database, rotated. */
    jwtSecret: string | undefined;
    /** Days between signing-key rotations (0: never); only without jwtSecret. */
    jwtRotateDays: number;
    accessTtlSec: number;
    refreshTtlDays: number;
    testOtp: string | undefined;
    otpTtlSec: number;
    otpMaxAttempts: number;
    /** Wrong codes one client address may try in any hour; 0 = no limit. */
    otpGuessesPerIpPerHour: number;
    /** Codes sent per hour: to one phone, to requests from one address, to one number block, in all; 0 = no limit. */
    otpPerPhonePerHour: number;
    otpPerIpPerHour: number;
    otpPerPrefixPerHour: number;
    otpGlobalPerHour: number;
    /** A shorter burst limit per phone, per `otpWindowSec`; 0 = none. */
    otpMaxPerWindow: number;
    otpWindowSec: number;
    /** Wrong two-step PINs per account in any hour before POST /auth/pin is refused; 0 = no limit. */
    pinMaxAttempts: number;
  };
  readonly sms: { driver: Environment['SMS_DRIVER']; webhookUrl: string | undefined };
  readonly safety: {
    /** Phones of the operators who may review reports and ban users. */
    adminPhones: ReadonlySet<string>;
    /** Reports one user may file in any hour; 0 = no limit. */
    reportsPerUserPerHour: number;
    /** Contact uploads of more than 100 phones one user may make in any hour; 0 = no limit. */
    contactUploadsPerHour: number;
    /** Groups one user may create in any hour; 0 = no limit. */
    groupsPerUserPerHour: number;
  };
  readonly messages: {
    rateLimitPerMinute: number;
    retentionDays: number;
    syncDefaultLimit: number;
    syncMaxLimit: number;
    /** How often expired disappearing messages (and their media) are deleted. */
    disappearingPurgeIntervalMs: number;
    /** How long after sending a message its sender may edit it (0: any time). */
    editWindowSec: number;
    /** How long after sending a message its sender may delete it for everyone (0: any time). */
    deleteWindowSec: number;
    /** Conversations one message may be forwarded to per sender per minute (0: no limit). */
    forwardMaxChats: number;
  };
  readonly realtime: {
    maxPayloadBytes: number;
    /** Socket.IO handshakes one client address may make in any minute; 0 = no limit. */
    connectionsPerIpPerMinute: number;
  };
  readonly presence: {
    graceMs: number;
    ttlMs: number;
    heartbeatMs: number;
    /** Ids one connection may have asked to watch at once, watchable or not; 0 = no cap. */
    maxWatches: number;
    /** presence:subscribe requests per user in any minute; 0 = no limit. */
    subscribesPerMinute: number;
  };
  readonly typing: { throttleMs: number; ttlMs: number };
  readonly queue: { concurrency: number; attempts: number; lockMs: number };
  readonly shutdownGraceMs: number;
  readonly keys: {
    /** Prekey bundle fetches per requester and target device at once; 0 = no limit. */
    fetchBurst: number;
    /** Seconds per fetch regained after the burst is used. */
    fetchRefillSec: number;
    /** `keys:low` goes to a device whose one-time prekeys fall below this. */
    lowThreshold: number;
  };
  readonly calls: {
    ringTimeoutSec: number;
    disconnectGraceSec: number;
    maxParticipants: number;
    stunUrls: string[];
    turnUrls: string[];
    turnSecret: string | undefined;
    turnTtlSec: number;
  };
  readonly media: {
    /** Largest upload per kind, in bytes. */
    maxBytes: { image: number; video: number; audio: number; document: number };
    maxImagePixels: number;
    /** Bytes one user may upload in any hour; 0 = no quota. */
    uploadQuotaBytesPerHour: number;
    urlExpirySec: number;
    uploadExpirySec: number;
    thumbnailMaxPx: number;
    ffmpegPath: string;
    ffprobePath: string;
    ffmpegTimeoutMs: number;
    /** Image uploads waiting for a re-encoding slot per instance; beyond it 503. 0 = no bound. */
    imageQueueMax: number;
  };
  /** Set when media lives in an S3-compatible store (S3_BUCKET); local disk otherwise. */
  readonly s3: S3Settings | undefined;
  readonly push: PushSettings;

  constructor(e: Environment) {
    this.env = e.NODE_ENV;
    this.http = {
      port: e.PORT,
      host: e.HOST,
      corsOrigin: e.CORS_ORIGIN,
      trustProxy: e.TRUST_PROXY,
    };
    this.dataDir = resolve(e.DATA_DIR);
    this.webDir = resolve(e.WEB_DIR);
    this.logLevel = e.LOG_LEVEL;
    this.role = e.APP_ROLE;
    this.database = {
      url: e.DATABASE_URL,
      poolSize: e.DATABASE_POOL_SIZE,
      runMigrations: e.DATABASE_RUN_MIGRATIONS,
      embeddedMaxConnections: e.EMBEDDED_DB_MAX_CONNECTIONS,
    };
    this.redis = { url: e.REDIS_URL, keyPrefix: e.REDIS_KEY_PREFIX };
    this.messageStore = e.MESSAGE_STORE;
    this.cassandra = {
      contactPoints: e.CASSANDRA_CONTACT_POINTS,
      localDataCenter: e.CASSANDRA_LOCAL_DC,
      keyspace: e.CASSANDRA_KEYSPACE,
      replication: parseReplication(e.CASSANDRA_REPLICATION),
      credentials:
        e.CASSANDRA_USERNAME && e.CASSANDRA_PASSWORD
          ? { username: e.CASSANDRA_USERNAME, password: e.CASSANDRA_PASSWORD }
          : undefined,
      readConsistency: e.CASSANDRA_READ_CONSISTENCY,
      writeConsistency: e.CASSANDRA_WRITE_CONSISTENCY,
      seqBucketSize: e.CASSANDRA_SEQ_BUCKET_SIZE,
      pageSize: e.CASSANDRA_PAGE_SIZE,
      requestTimeoutMs: e.CASSANDRA_REQUEST_TIMEOUT_MS,
    };
    this.auth = {
      jwtSecret: e.JWT_SECRET,
      jwtRotateDays: e.JWT_ROTATE_DAYS,
      accessTtlSec: e.JWT_ACCESS_TTL_SEC,
      refreshTtlDays: e.REFRESH_TOKEN_TTL_DAYS,
      testOtp: e.AUTH_TEST_OTP,
      otpTtlSec: e.OTP_TTL_SEC,
      otpMaxAttempts: e.OTP_MAX_ATTEMPTS,
      otpGuessesPerIpPerHour: e.OTP_GUESSES_PER_IP_PER_HOUR,
      otpPerPhonePerHour: e.OTP_PER_PHONE_PER_HOUR,
      otpPerIpPerHour: e.OTP_PER_IP_PER_HOUR,
      otpPerPrefixPerHour: e.OTP_PER_PREFIX_PER_HOUR,
      otpGlobalPerHour: e.OTP_GLOBAL_PER_HOUR,
      otpMaxPerWindow: e.OTP_MAX_PER_WINDOW,
      otpWindowSec: e.OTP_WINDOW_SEC,
      pinMaxAttempts: e.PIN_MAX_ATTEMPTS,
    };
    this.sms = { driver: e.SMS_DRIVER, webhookUrl: e.SMS_WEBHOOK_URL };
    this.safety = {
      adminPhones: new Set(e.ADMIN_PHONES),
      reportsPerUserPerHour: e.REPORTS_PER_USER_PER_HOUR,
      contactUploadsPerHour: e.CONTACT_UPLOADS_PER_HOUR,
      groupsPerUserPerHour: e.GROUPS_PER_USER_PER_HOUR,
    };
    this.messages = {
      rateLimitPerMinute: e.MESSAGE_RATE_LIMIT_PER_MINUTE,
      retentionDays: e.MESSAGE_RETENTION_DAYS,
      syncDefaultLimit: e.SYNC_DEFAULT_LIMIT,
      syncMaxLimit: e.SYNC_MAX_LIMIT,
      disappearingPurgeIntervalMs: e.DISAPPEARING_PURGE_INTERVAL_MS,
      editWindowSec: e.MESSAGE_EDIT_WINDOW_SEC,
      deleteWindowSec: e.MESSAGE_DELETE_WINDOW_SEC,
      forwardMaxChats: e.FORWARD_MAX_CHATS,
    };
    this.realtime = {
      maxPayloadBytes: e.SOCKET_MAX_PAYLOAD_BYTES,
      connectionsPerIpPerMinute: e.SOCKET_CONNECTIONS_PER_IP_PER_MINUTE,
    };
    this.presence = {
      graceMs: e.PRESENCE_GRACE_MS,
      ttlMs: e.PRESENCE_TTL_MS,
      heartbeatMs: e.PRESENCE_HEARTBEAT_MS,
      maxWatches: e.PRESENCE_MAX_WATCHES,
      subscribesPerMinute: e.PRESENCE_SUBSCRIBES_PER_MINUTE,
    };
    this.typing = { throttleMs: e.TYPING_THROTTLE_MS, ttlMs: e.TYPING_TTL_MS };
    this.queue = {
      concurrency: e.QUEUE_CONCURRENCY,
      attempts: e.QUEUE_ATTEMPTS,
      lockMs: e.QUEUE_LOCK_MS,
    };
    this.shutdownGraceMs = e.SHUTDOWN_GRACE_MS;
    this.keys = {
      fetchBurst: e.KEYS_FETCH_BURST,
      fetchRefillSec: e.KEYS_FETCH_REFILL_SEC,
      lowThreshold: e.KEYS_LOW_THRESHOLD,
    };
    this.calls = {
      ringTimeoutSec: e.CALL_RING_TIMEOUT_SEC,
      disconnectGraceSec: e.CALL_DISCONNECT_GRACE_SEC,
      maxParticipants: e.CALL_MAX_PARTICIPANTS,
      stunUrls: e.STUN_URLS,
      turnUrls: e.TURN_URLS,
      turnSecret: e.TURN_SECRET,
      turnTtlSec: e.TURN_TTL_SEC,
    };
    this.media = {
      maxBytes: {
        image: e.MEDIA_MAX_IMAGE_BYTES,
        video: e.MEDIA_MAX_VIDEO_BYTES,
        audio: e.MEDIA_MAX_AUDIO_BYTES,
        document: e.MEDIA_MAX_DOCUMENT_BYTES,
      },
      maxImagePixels: e.MEDIA_MAX_IMAGE_PIXELS,
      uploadQuotaBytesPerHour: e.MEDIA_UPLOAD_QUOTA_BYTES_PER_HOUR,
      urlExpirySec: e.MEDIA_URL_EXPIRY_SEC,
      uploadExpirySec: e.MEDIA_UPLOAD_EXPIRY_SEC,
      thumbnailMaxPx: e.MEDIA_THUMBNAIL_MAX_PX,
      ffmpegPath: e.MEDIA_FFMPEG_PATH,
      ffprobePath: e.MEDIA_FFPROBE_PATH,
      ffmpegTimeoutMs: e.MEDIA_FFMPEG_TIMEOUT_MS,
      imageQueueMax: e.MEDIA_IMAGE_QUEUE_MAX,
    };
    this.s3 = e.S3_BUCKET
      ? {
          bucket: e.S3_BUCKET,
          endpoint: e.S3_ENDPOINT,
          publicEndpoint: e.S3_PUBLIC_ENDPOINT,
          region: e.S3_REGION,
          credentials:
            e.S3_ACCESS_KEY_ID && e.S3_SECRET_ACCESS_KEY
              ? { accessKeyId: e.S3_ACCESS_KEY_ID, secretAccessKey: e.S3_SECRET_ACCESS_KEY }
              : undefined,
          forcePathStyle: e.S3_FORCE_PATH_STYLE,
          requestChecksumCalculation: e.S3_REQUEST_CHECKSUM_CALCULATION,
          responseChecksumValidation: e.S3_RESPONSE_CHECKSUM_VALIDATION,
          presignedDownloads: e.S3_PRESIGNED_DOWNLOADS,
        }
      : undefined;
    this.push = {
      delayMs: e.PUSH_DELAY_MS,
      perConversationPerMinute: e.PUSH_PER_CONVERSATION_PER_MINUTE,
      allowPrivateEndpoints: e.PUSH_ALLOW_PRIVATE_ENDPOINTS,
      timeoutMs: e.PUSH_TIMEOUT_MS,
      fcmServiceAccountFile: e.FCM_SERVICE_ACCOUNT_FILE,
      apns:
        e.APNS_KEY_FILE && e.APNS_KEY_ID && e.APNS_TEAM_ID && e.APNS_BUNDLE_ID
          ? {
              keyFile: e.APNS_KEY_FILE,
              keyId: e.APNS_KEY_ID,
              teamId: e.APNS_TEAM_ID,
              bundleId: e.APNS_BUNDLE_ID,
              production: e.APNS_PRODUCTION,
            }
          : undefined,
      vapid:
        e.VAPID_PUBLIC_KEY && e.VAPID_PRIVATE_KEY
          ? { publicKey: e.VAPID_PUBLIC_KEY, privateKey: e.VAPID_PRIVATE_KEY }
          : undefined,
      vapidSubject: e.VAPID_SUBJECT,
    };
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
  return new AppConfig(parsed.data);
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
