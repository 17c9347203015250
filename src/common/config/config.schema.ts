import { z } from 'zod';

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

  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  JWT_ACCESS_TTL_SEC: int(900, 30),
  REFRESH_TOKEN_TTL_DAYS: int(30, 1),
  AUTH_TEST_OTP: z
    .string()
    .regex(/^\d{6}$/, 'must be exactly 6 digits')
    .optional(),
  OTP_TTL_SEC: int(300, 30),
  OTP_MAX_ATTEMPTS: int(5),
  OTP_MAX_PER_WINDOW: int(3),
  OTP_WINDOW_SEC: int(900, 1),
  SMS_DRIVER: z.enum(['log', 'webhook']).default('log'),
  SMS_WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional(),

  MESSAGE_RATE_LIMIT_PER_MINUTE: int(100),
  MESSAGE_RETENTION_DAYS: int(30, 1),
  SYNC_DEFAULT_LIMIT: int(100, 1),
  SYNC_MAX_LIMIT: int(500, 1),
  SOCKET_MAX_PAYLOAD_BYTES: int(1024 * 1024, 128 * 1024),
  PRESENCE_GRACE_MS: int(5000),
  PRESENCE_TTL_MS: int(60000, 1000),
  PRESENCE_HEARTBEAT_MS: int(20000, 500),
  TYPING_THROTTLE_MS: int(2000),
  TYPING_TTL_MS: int(6000, 500),
  QUEUE_CONCURRENCY: int(4, 1),
  QUEUE_ATTEMPTS: int(5, 1),
  QUEUE_LOCK_MS: int(30000, 1000),
  SHUTDOWN_GRACE_MS: int(10000),
  CORS_ORIGIN: z.string().default('*'),
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
  if (production && !raw.JWT_SECRET)
    problems.push('JWT_SECRET: is required when NODE_ENV=production');
  if (production && raw.JWT_SECRET && /change-?me/i.test(raw.JWT_SECRET)) {
    problems.push('JWT_SECRET: still holds the placeholder value; set a random secret');
  }
  if (raw.APP_ROLE && raw.APP_ROLE !== 'all' && !raw.REDIS_URL) {
    problems.push(
      'APP_ROLE: api and worker roles need REDIS_URL (jobs and events cross processes through Redis)',
    );
  }
  if (raw.SMS_DRIVER === 'webhook' && !raw.SMS_WEBHOOK_URL) {
    problems.push('SMS_WEBHOOK_URL: is required when SMS_DRIVER=webhook');
  }
  const syncDefault = Number(raw.SYNC_DEFAULT_LIMIT ?? 100);
  const syncMax = Number(raw.SYNC_MAX_LIMIT ?? 500);
  if (Number.isFinite(syncDefault) && Number.isFinite(syncMax) && syncDefault > syncMax) {
    problems.push('SYNC_DEFAULT_LIMIT: must not exceed SYNC_MAX_LIMIT');
  }
  return problems;
}

export type Environment = z.infer<typeof environmentSchema>;
