import { z } from 'zod';
import { isValidTrustList } from '../http/client-address';

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .optional()
    .transform((v) => (v === undefined ? fallback : ['true', '1', 'yes'].includes(v)));

/** Whole numbers only: blanks, exponents and hex are refused rather than read as something else. */
const int = (fallback: number, min = 0) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min))
    .optional()
    .transform((v) => v ?? fallback);

/** A comma-separated list whose every entry matches `scheme` (ICE server URLs, hosts). */
const urlList = (scheme: RegExp, what: string) =>
  z
    .string()
    .optional()
    .transform((v) =>
      (v ?? '')
        .split(',')
        .map((u) => u.trim())
        .filter(Boolean),
    )
    .refine(
      (list) => list.every((u) => scheme.test(u)),
      `must be a comma-separated list of ${what}`,
    );

const MIB = 1024 * 1024;
/** S3's limit for one PutObject (5 GiB); media objects are written in one request. */
const MAX_OBJECT_BYTES = 5 * 1024 * MIB;
const TOO_BIG = 'must be at most 5368709120 (5 GiB)';
/** The AWS SDK's checksum modes; several S3-compatible stores need WHEN_REQUIRED. */
const checksumMode = z.enum(['WHEN_SUPPORTED', 'WHEN_REQUIRED']).default('WHEN_SUPPORTED');

/** The consistency levels a single-region deployment would use; LOCAL_QUORUM by default. */
const cassandraConsistency = z
  .enum(['ONE', 'LOCAL_ONE', 'QUORUM', 'LOCAL_QUORUM', 'EACH_QUORUM', 'ALL'])
  .default('LOCAL_QUORUM');

/**
 * Every setting the server understands. Each key is documented in .env.example;
 * keep both in step.
 */
export const environmentSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: int(3000).pipe(z.number().max(65535, 'must be at most 65535')),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATA_DIR: z.string().min(1).default('./data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  APP_ROLE: z.enum(['api', 'worker', 'all']).default('all'),

  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  DATABASE_POOL_SIZE: int(10, 1),
  DATABASE_RUN_MIGRATIONS: bool(true),
  EMBEDDED_DB_MAX_CONNECTIONS: int(8, 1),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  MESSAGE_STORE: z.enum(['postgres', 'cassandra']).default('postgres'),
  CASSANDRA_CONTACT_POINTS: urlList(
    /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\])(:\d{1,5})?$/,
    'host or host:port entries',
  ),
  CASSANDRA_LOCAL_DC: z.string().min(1).default('datacenter1'),
  CASSANDRA_KEYSPACE: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,47}$/, 'must be a lower-case CQL identifier (letters, digits, _)')
    .default('parley'),
  CASSANDRA_REPLICATION: z
    .string()
    .regex(
      /^(SimpleStrategy:\d+|NetworkTopologyStrategy:[A-Za-z0-9_.-]+=\d+(,[A-Za-z0-9_.-]+=\d+)*)$/,
      'must be SimpleStrategy:<factor> or NetworkTopologyStrategy:<dc>=<factor>[,<dc>=<factor>...]',
    )
    .default('SimpleStrategy:1'),
  CASSANDRA_USERNAME: z.string().min(1).optional(),
  CASSANDRA_PASSWORD: z.string().min(1).optional(),
  CASSANDRA_READ_CONSISTENCY: cassandraConsistency,
  CASSANDRA_WRITE_CONSISTENCY: cassandraConsistency,
  CASSANDRA_SEQ_BUCKET_SIZE: int(1000, 1),
  CASSANDRA_PAGE_SIZE: int(200, 10),
  CASSANDRA_REQUEST_TIMEOUT_MS: int(5000, 100),

  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  JWT_ACCESS_TTL_SEC: int(900, 30),
  JWT_ROTATE_DAYS: int(30),
  REFRESH_TOKEN_TTL_DAYS: int(30, 1),
  AUTH_TEST_OTP: z
    .string()
    .regex(/^\d{6}$/, 'must be exactly 6 digits')
    .optional(),
  OTP_TTL_SEC: int(300, 30),
  OTP_MAX_ATTEMPTS: int(5),
  OTP_GUESSES_PER_IP_PER_HOUR: int(30),
  OTP_PER_PHONE_PER_HOUR: int(5),
  OTP_PER_IP_PER_HOUR: int(20),
  OTP_PER_PREFIX_PER_HOUR: int(100),
  OTP_GLOBAL_PER_HOUR: int(1000),
  OTP_MAX_PER_WINDOW: int(3),
  OTP_WINDOW_SEC: int(900, 1),
  SMS_DRIVER: z.enum(['log', 'webhook']).default('log'),
  ADMIN_PHONES: z
    .string()
    .optional()
    .transform((v) =>
      (v ?? '')
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean),
    )
    .refine(
      (list) => list.every((p) => /^\+[1-9]\d{6,14}$/.test(p)),
      'must be a comma-separated list of E.164 phone numbers',
    ),
  REPORTS_PER_USER_PER_HOUR: int(20),
  PIN_MAX_ATTEMPTS: int(5),
  CONTACT_UPLOADS_PER_HOUR: int(1),
  GROUPS_PER_USER_PER_HOUR: int(10),
  SMS_WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional(),

  MESSAGE_RATE_LIMIT_PER_MINUTE: int(100),
  MESSAGE_RETENTION_DAYS: int(30, 1),
  MESSAGE_EDIT_WINDOW_SEC: int(900),
  MESSAGE_DELETE_WINDOW_SEC: int(172_800),
  FORWARD_MAX_CHATS: int(5),
  SYNC_DEFAULT_LIMIT: int(100, 1),
  SYNC_MAX_LIMIT: int(500, 1),
  DISAPPEARING_PURGE_INTERVAL_MS: int(60_000, 100),
  SOCKET_MAX_PAYLOAD_BYTES: int(1024 * 1024, 128 * 1024),
  PRESENCE_GRACE_MS: int(5000),
  PRESENCE_TTL_MS: int(60000, 1000),
  PRESENCE_HEARTBEAT_MS: int(20000, 500),
  PRESENCE_MAX_WATCHES: int(2000),
  PRESENCE_SUBSCRIBES_PER_MINUTE: int(60),
  TYPING_THROTTLE_MS: int(2000),
  TYPING_TTL_MS: int(6000, 500),
  QUEUE_CONCURRENCY: int(4, 1),
  QUEUE_ATTEMPTS: int(5, 1),
  QUEUE_LOCK_MS: int(30000, 1000),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,40}$/, 'must be 1 to 40 letters, digits, dots, dashes or underscores')
    .default('parley'),
  SHUTDOWN_GRACE_MS: int(10000),
  CORS_ORIGIN: z.string().default('*'),
  TRUST_PROXY: z
    .string()
    .optional()
    .transform((v) =>
      v === undefined
        ? ['loopback', 'linklocal', 'uniquelocal']
        : v.trim() === 'false'
          ? []
          : v
              .split(',')
              .map((p) => p.trim())
              .filter(Boolean),
    )
    .refine(
      isValidTrustList,
      'must be false or a comma-separated list of addresses, CIDR ranges, loopback, linklocal or uniquelocal',
    ),
  SOCKET_CONNECTIONS_PER_IP_PER_MINUTE: int(0),
  WEB_DIR: z.string().default('dist/web'),

  MEDIA_MAX_IMAGE_BYTES: int(16 * MIB, 1).pipe(z.number().max(MAX_OBJECT_BYTES, TOO_BIG)),
  MEDIA_MAX_VIDEO_BYTES: int(100 * MIB, 1).pipe(z.number().max(MAX_OBJECT_BYTES, TOO_BIG)),
  MEDIA_MAX_AUDIO_BYTES: int(100 * MIB, 1).pipe(z.number().max(MAX_OBJECT_BYTES, TOO_BIG)),
  MEDIA_MAX_DOCUMENT_BYTES: int(100 * MIB, 1).pipe(z.number().max(MAX_OBJECT_BYTES, TOO_BIG)),
  MEDIA_MAX_IMAGE_PIXELS: int(100_000_000, 1),
  MEDIA_UPLOAD_QUOTA_BYTES_PER_HOUR: int(500 * MIB),
  MEDIA_URL_EXPIRY_SEC: int(300, 1).pipe(
    z.number().max(604_800, 'must be at most 604800 (7 days)'),
  ),
  MEDIA_UPLOAD_EXPIRY_SEC: int(86_400, 60),
  MEDIA_THUMBNAIL_MAX_PX: int(320, 16).pipe(z.number().max(2048, 'must be at most 2048')),
  MEDIA_FFMPEG_PATH: z.string().min(1).default('ffmpeg'),
  MEDIA_FFPROBE_PATH: z.string().min(1).default('ffprobe'),
  MEDIA_FFMPEG_TIMEOUT_MS: int(30_000, 100),
  MEDIA_IMAGE_QUEUE_MAX: int(32),

  KEYS_FETCH_BURST: int(6),
  KEYS_FETCH_REFILL_SEC: int(600, 1),
  KEYS_LOW_THRESHOLD: int(10),

  CALL_RING_TIMEOUT_SEC: int(30, 1),
  CALL_DISCONNECT_GRACE_SEC: int(10, 1),
  CALL_MAX_PARTICIPANTS: int(8, 2),
  STUN_URLS: urlList(/^stuns?:/, 'stun: or stuns: URLs'),
  TURN_URLS: urlList(/^turns?:/, 'turn: or turns: URLs'),
  TURN_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  TURN_TTL_SEC: int(3600, 60).pipe(z.number().max(86_400, 'must be at most 86400 (1 day)')),

  S3_BUCKET: z.string().min(3).max(63).optional(),
  S3_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  S3_PUBLIC_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  S3_FORCE_PATH_STYLE: bool(false),
  S3_REQUEST_CHECKSUM_CALCULATION: checksumMode,
  S3_RESPONSE_CHECKSUM_VALIDATION: checksumMode,
  S3_PRESIGNED_DOWNLOADS: bool(true),

  PUSH_DELAY_MS: int(3000),
  PUSH_PER_CONVERSATION_PER_MINUTE: int(1),
  PUSH_ALLOW_PRIVATE_ENDPOINTS: bool(false),
  PUSH_TIMEOUT_MS: int(10_000, 100),
  FCM_SERVICE_ACCOUNT_FILE: z.string().min(1).optional(),
  APNS_KEY_FILE: z.string().min(1).optional(),
  APNS_KEY_ID: z.string().min(1).optional(),
  APNS_TEAM_ID: z.string().min(1).optional(),
  APNS_BUNDLE_ID: z.string().min(1).optional(),
  APNS_PRODUCTION: bool(false),
  VAPID_PUBLIC_KEY: z.string().min(1).optional(),
  VAPID_PRIVATE_KEY: z.string().min(1).optional(),
  VAPID_SUBJECT: z
    .string()
    .regex(/^(mailto:|https:\/\/)/, 'must be a mailto: or https:// URL')
    .default('mailto:admin@localhost'),
});

/**
 * Rules between settings. They read the raw values so that they are reported together
 * with any per-setting problem (a schema refinement would be skipped when a field fails).
 */
export function crossSettingProblems(raw: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  const production = raw.NODE_ENV === 'production';
  if (production && raw.AUTH_TEST_OTP)
    problems.push('AUTH_TEST_OTP: is refused when NODE_ENV=production');
  if (production && raw.OTP_MAX_ATTEMPTS?.trim() === '0')
    problems.push('OTP_MAX_ATTEMPTS: 0 (unlimited guesses) is refused when NODE_ENV=production');
  if (production && (raw.SMS_DRIVER ?? 'log') === 'log')
    problems.push(
      'SMS_DRIVER: log writes sign-in codes to the log and is refused when NODE_ENV=production; use webhook',
    );
  if (production && raw.JWT_SECRET && /change-?me/i.test(raw.JWT_SECRET)) {
    problems.push('JWT_SECRET: still holds the placeholder value; set a random secret');
  }
  if (raw.APP_ROLE && raw.APP_ROLE !== 'all' && !raw.REDIS_URL) {
    problems.push(
      'APP_ROLE: api and worker roles need REDIS_URL (jobs and events cross processes through Redis)',
    );
  }
  const apnsSettings = ['APNS_KEY_FILE', 'APNS_KEY_ID', 'APNS_TEAM_ID', 'APNS_BUNDLE_ID'];
  const givenApns = apnsSettings.filter((name) => raw[name]);
  if (givenApns.length && givenApns.length < apnsSettings.length) {
    const missing = apnsSettings.filter((name) => !raw[name]);
    problems.push(`${missing.join(', ')}: required with ${givenApns.join(', ')}`);
  }
  if (!!raw.VAPID_PUBLIC_KEY !== !!raw.VAPID_PRIVATE_KEY) {
    problems.push('VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY: set both or neither');
  }
  // TURN without a secret would hand out servers that refuse every client.
  if (raw.TURN_URLS?.trim() && !raw.TURN_SECRET) {
    problems.push('TURN_SECRET: is required when TURN_URLS is set');
  }
  if (raw.MESSAGE_STORE === 'cassandra' && !raw.CASSANDRA_CONTACT_POINTS?.trim()) {
    problems.push('CASSANDRA_CONTACT_POINTS: is required when MESSAGE_STORE=cassandra');
  }
  if (!!raw.CASSANDRA_USERNAME !== !!raw.CASSANDRA_PASSWORD) {
    problems.push('CASSANDRA_USERNAME, CASSANDRA_PASSWORD: set both or neither');
  }
  if (raw.SMS_DRIVER === 'webhook' && !raw.SMS_WEBHOOK_URL) {
    problems.push('SMS_WEBHOOK_URL: is required when SMS_DRIVER=webhook');
  }
  // Any S3 setting without a bucket would silently leave media on local disk.
  const s3Settings = [
    'S3_ENDPOINT',
    'S3_PUBLIC_ENDPOINT',
    'S3_ACCESS_KEY_ID',
    'S3_SECRET_ACCESS_KEY',
  ];
  const givenS3 = s3Settings.filter((name) => raw[name]);
  if (!raw.S3_BUCKET && givenS3.length) {
    problems.push(`S3_BUCKET: is required when ${givenS3.join(', ')} is set`);
  }
  if (!!raw.S3_ACCESS_KEY_ID !== !!raw.S3_SECRET_ACCESS_KEY) {
    problems.push(
      `${raw.S3_ACCESS_KEY_ID ? 'S3_SECRET_ACCESS_KEY' : 'S3_ACCESS_KEY_ID'}: S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY are set together`,
    );
  }
  const syncDefault = Number(raw.SYNC_DEFAULT_LIMIT ?? 100);
  const syncMax = Number(raw.SYNC_MAX_LIMIT ?? 500);
  if (Number.isFinite(syncDefault) && Number.isFinite(syncMax) && syncDefault > syncMax) {
    problems.push('SYNC_DEFAULT_LIMIT: must not exceed SYNC_MAX_LIMIT');
  }
  return problems;
}

export type Environment = z.infer<typeof environmentSchema>;
