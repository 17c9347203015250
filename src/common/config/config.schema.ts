import { z } from 'zod';

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .optional()
    .transform((v) => (v === undefined ? fallback : ['true', '1', 'yes'].includes(v)));

const int = (fallback: number, min = 0) => z.coerce.number().int().min(min).default(fallback);

/**
 * Every setting the server understands. Each key is documented in .env.example;
 * keep both in step.
 */
export const environmentSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    PORT: int(3000).pipe(z.number().max(65535)),
    HOST: z.string().min(1).default('0.0.0.0'),
    DATA_DIR: z.string().min(1).default('./data'),
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info'),
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
    SMS_WEBHOOK_URL: z.url().optional(),

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
    SHUTDOWN_GRACE_MS: int(10000),
    CORS_ORIGIN: z.string().default('*'),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === 'production' && env.AUTH_TEST_OTP) {
      ctx.addIssue({
        code: 'custom',
        path: ['AUTH_TEST_OTP'],
        message: 'is refused when NODE_ENV=production',
      });
    }
    if (env.NODE_ENV === 'production' && !env.JWT_SECRET) {
      ctx.addIssue({
        code: 'custom',
        path: ['JWT_SECRET'],
        message: 'is required when NODE_ENV=production',
      });
    }
    if (env.NODE_ENV === 'production' && env.JWT_SECRET && /change-?me/i.test(env.JWT_SECRET)) {
      ctx.addIssue({
        code: 'custom',
        path: ['JWT_SECRET'],
        message: 'still holds the placeholder value; set a random secret',
      });
    }
    if (env.SMS_DRIVER === 'webhook' && !env.SMS_WEBHOOK_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['SMS_WEBHOOK_URL'],
        message: 'is required when SMS_DRIVER=webhook',
      });
    }
    if (env.SYNC_DEFAULT_LIMIT > env.SYNC_MAX_LIMIT) {
      ctx.addIssue({
        code: 'custom',
        path: ['SYNC_DEFAULT_LIMIT'],
        message: 'must not exceed SYNC_MAX_LIMIT',
      });
    }
  });

export type Environment = z.infer<typeof environmentSchema>;
