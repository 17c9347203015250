import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, loadConfig, type EnvironmentSource } from './app-config';

const SECRET = 'a-production-secret-of-at-least-32-chars';
/** The least a production deployment must set. */
const PRODUCTION = {
  NODE_ENV: 'production',
  SMS_DRIVER: 'webhook',
  SMS_WEBHOOK_URL: 'https://sms.example/send',
};

describe('loadConfig', () => {
  let dataDir: string;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'parley-config-'));
  });
  afterEach(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  const load = (env: EnvironmentSource = {}) => loadConfig({ DATA_DIR: dataDir, ...env });

  /** The ConfigError thrown for the settings; fails the test if none is thrown. */
  const configError = (env: EnvironmentSource): ConfigError => {
    try {
      load(env);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return error as ConfigError;
    }
    throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
  };

  const expectRefused = (env: EnvironmentSource, setting: string) => {
    const error = configError(env);
    expect(error.name).toBe('ConfigError');
    expect(error.message).toContain(setting);
    expect(error.problems.some((p) => p.startsWith(`${setting}:`))).toBe(true);
  };

  describe('defaults', () => {
    it('fills in every setting', () => {
      const config = load();
      expect(config.env).toBe('development');
      expect(config.http).toEqual({
        port: 3000,
        host: '0.0.0.0',
        corsOrigin: '*',
        trustProxy: ['loopback', 'linklocal', 'uniquelocal'],
      });
      expect(config.dataDir).toBe(resolve(dataDir));
      expect(config.logLevel).toBe('info');
      expect(config.role).toBe('all');
      expect(config.database).toEqual({
        url: undefined,
        poolSize: 10,
        runMigrations: true,
        embeddedMaxConnections: 8,
      });
      expect(config.redis).toEqual({ url: undefined, keyPrefix: 'parley' });
      expect(config.auth).toEqual({
        jwtSecret: undefined,
        jwtRotateDays: 30,
        accessTtlSec: 900,
        refreshTtlDays: 30,
        testOtp: undefined,
        otpTtlSec: 300,
        otpMaxAttempts: 5,
        otpGuessesPerIpPerHour: 30,
        otpPerPhonePerHour: 5,
        otpPerIpPerHour: 20,
        otpPerPrefixPerHour: 100,
        otpGlobalPerHour: 1000,
        otpMaxPerWindow: 3,
        otpWindowSec: 900,
        pinMaxAttempts: 5,
      });
      expect(config.sms).toEqual({ driver: 'log', webhookUrl: undefined });
      expect(config.safety).toEqual({
        adminPhones: new Set(),
        reportsPerUserPerHour: 20,
        contactUploadsPerHour: 1,
        groupsPerUserPerHour: 10,
      });
      expect(config.messages).toEqual({
        rateLimitPerMinute: 100,
        retentionDays: 30,
        syncDefaultLimit: 100,
        syncMaxLimit: 500,
        disappearingPurgeIntervalMs: 60_000,
        editWindowSec: 900,
        deleteWindowSec: 172_800,
        forwardMaxChats: 5,
      });
      expect(config.realtime).toEqual({
        maxPayloadBytes: 1024 * 1024,
        connectionsPerIpPerMinute: 0,
      });
      expect(config.shutdownGraceMs).toBe(10000);
      expect(config.calls).toEqual({
        ringTimeoutSec: 30,
        disconnectGraceSec: 10,
        maxParticipants: 8,
        stunUrls: [],
        turnUrls: [],
        turnSecret: undefined,
        turnTtlSec: 3600,
      });
      expect(config.embeddedDatabase).toBe(true);
      expect(config.runsApi).toBe(true);
      expect(config.runsWorkers).toBe(true);
    });

    it('treats empty values as unset', () => {
      const config = load({ PORT: '', LOG_LEVEL: '', DATABASE_URL: '', AUTH_TEST_OTP: '' });
      expect(config.http.port).toBe(3000);
      expect(config.logLevel).toBe('info');
      expect(config.database.url).toBeUndefined();
      expect(config.auth.testOtp).toBeUndefined();
    });

    it('ignores variables it does not know', () => {
      expect(() => load({ PATH: '/usr/bin', HOME: '/home/x', SOMETHING_ELSE: '1' })).not.toThrow();
    });
  });

  describe('explicit values', () => {
    it('reads and converts each setting', () => {
      const config = load({
        NODE_ENV: 'test',
        PORT: '8080',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'debug',
        APP_ROLE: 'api',
        DATABASE_URL: 'postgresql://user:pw@db.example:5432/parley',
        DATABASE_POOL_SIZE: '25',
        DATABASE_RUN_MIGRATIONS: 'false',
        REDIS_URL: 'rediss://cache.example:6380',
        JWT_SECRET: SECRET,
        JWT_ACCESS_TTL_SEC: '60',
        AUTH_TEST_OTP: '123456',
        OTP_MAX_PER_WINDOW: '0',
        MESSAGE_RATE_LIMIT_PER_MINUTE: '0',
        SYNC_DEFAULT_LIMIT: '50',
        SYNC_MAX_LIMIT: '50',
        DISAPPEARING_PURGE_INTERVAL_MS: '250',
        MESSAGE_EDIT_WINDOW_SEC: '0',
        MESSAGE_DELETE_WINDOW_SEC: '60',
        FORWARD_MAX_CHATS: '0',
        CORS_ORIGIN: 'https://a.example,https://b.example',
        TRUST_PROXY: '10.0.0.0/8, 192.0.2.7,loopback',
      });
      expect(config.env).toBe('test');
      expect(config.http).toEqual({
        port: 8080,
        host: '127.0.0.1',
        corsOrigin: 'https://a.example,https://b.example',
        trustProxy: ['10.0.0.0/8', '192.0.2.7', 'loopback'],
      });
      expect(config.logLevel).toBe('debug');
      expect(config.database).toMatchObject({
        url: 'postgresql://user:pw@db.example:5432/parley',
        poolSize: 25,
        runMigrations: false,
      });
      expect(config.embeddedDatabase).toBe(false);
      expect(config.redis.url).toBe('rediss://cache.example:6380');
      expect(config.auth).toMatchObject({
        jwtSecret: SECRET,
        accessTtlSec: 60,
        testOtp: '123456',
        otpMaxPerWindow: 0,
      });
      expect(config.messages).toMatchObject({
        rateLimitPerMinute: 0,
        syncDefaultLimit: 50,
        syncMaxLimit: 50,
        disappearingPurgeIntervalMs: 250,
        editWindowSec: 0,
        deleteWindowSec: 60,
        forwardMaxChats: 0,
      });
      expect(config.runsApi).toBe(true);
      expect(config.runsWorkers).toBe(false);
    });

    it('accepts the spellings of a boolean', () => {
      for (const [raw, value] of [
        ['true', true],
        ['1', true],
        ['yes', true],
        ['false', false],
        ['0', false],
        ['no', false],
      ] as const) {
        expect(load({ DATABASE_RUN_MIGRATIONS: raw }).database.runMigrations).toBe(value);
      }
      expectRefused({ DATABASE_RUN_MIGRATIONS: 'maybe' }, 'DATABASE_RUN_MIGRATIONS');
    });

    it('knows which roles run the API and the workers', () => {
      const redis = { REDIS_URL: 'redis://127.0.0.1:6379' };
      expect(load({ APP_ROLE: 'worker', ...redis })).toMatchObject({
        runsApi: false,
        runsWorkers: true,
      });
      expect(load({ APP_ROLE: 'api', ...redis })).toMatchObject({
        runsApi: true,
        runsWorkers: false,
      });
      expect(load({})).toMatchObject({ runsApi: true, runsWorkers: true });
      expectRefused({ APP_ROLE: 'both' }, 'APP_ROLE');
      // Split roles reach each other only through Redis.
      expectRefused({ APP_ROLE: 'worker' }, 'APP_ROLE');
    });

    it('accepts port 0 (any free port) and 65535', () => {
      expect(load({ PORT: '0' }).http.port).toBe(0);
      expect(load({ PORT: '65535' }).http.port).toBe(65535);
    });
  });

  describe('bad values name the setting', () => {
    it.each(['abc', '-1', '65536', '3000.5', 'true'])('PORT=%s', (port) => {
      expectRefused({ PORT: port }, 'PORT');
    });

    it.each(['verbose', 'INFO', 'none'])('LOG_LEVEL=%s', (level) => {
      expectRefused({ LOG_LEVEL: level }, 'LOG_LEVEL');
    });

    it.each(['not a url', 'mysql://user@host/db', 'http://localhost:5432/db', 'localhost:5432'])(
      'DATABASE_URL=%s',
      (url) => {
        expectRefused({ DATABASE_URL: url }, 'DATABASE_URL');
      },
    );

    it('ADMIN_PHONES is a comma-separated list of E.164 phones', () => {
      expect([
        ...load({ ADMIN_PHONES: ' +14155550100 ,+442071838750' }).safety.adminPhones,
      ]).toEqual(['+14155550100', '+442071838750']);
      expectRefused({ ADMIN_PHONES: '+14155550100,4155550101' }, 'ADMIN_PHONES');
    });

    it('TRUST_PROXY is false or a list of addresses, ranges and presets', () => {
      expect(load({ TRUST_PROXY: 'false' }).http.trustProxy).toEqual([]);
      expectRefused({ TRUST_PROXY: 'true' }, 'TRUST_PROXY');
      expectRefused({ TRUST_PROXY: '10.0.0.0/99' }, 'TRUST_PROXY');
    });

    it('REDIS_URL must be a redis URL', () => {
      expectRefused({ REDIS_URL: 'http://localhost:6379' }, 'REDIS_URL');
    });

    it('other numeric settings are range-checked', () => {
      expectRefused({ DATABASE_POOL_SIZE: '0' }, 'DATABASE_POOL_SIZE');
      expectRefused({ JWT_ACCESS_TTL_SEC: '10' }, 'JWT_ACCESS_TTL_SEC');
      expectRefused({ MESSAGE_RATE_LIMIT_PER_MINUTE: '-5' }, 'MESSAGE_RATE_LIMIT_PER_MINUTE');
      expectRefused({ SOCKET_MAX_PAYLOAD_BYTES: '65536' }, 'SOCKET_MAX_PAYLOAD_BYTES');
      expectRefused({ SYNC_DEFAULT_LIMIT: '600', SYNC_MAX_LIMIT: '500' }, 'SYNC_DEFAULT_LIMIT');
      expectRefused({ DISAPPEARING_PURGE_INTERVAL_MS: '99' }, 'DISAPPEARING_PURGE_INTERVAL_MS');
    });

    it.each([' ', '1e3', '0x10', '12abc'])(
      'numbers are whole decimal numbers only: PORT=%p',
      (port) => {
        expectRefused({ PORT: port }, 'PORT');
      },
    );

    it('a blank rate limit is refused, not read as 0 (which would turn the limit off)', () => {
      expectRefused({ MESSAGE_RATE_LIMIT_PER_MINUTE: '  ' }, 'MESSAGE_RATE_LIMIT_PER_MINUTE');
    });

    it('cross-setting rules are reported together with per-setting problems', () => {
      const error = configError({ PORT: 'abc', NODE_ENV: 'production', AUTH_TEST_OTP: '123456' });
      expect(error.message).toContain('PORT');
      expect(error.message).toContain('AUTH_TEST_OTP');
    });

    it('push settings: defaults, APNs all-or-nothing, VAPID keys in pairs', () => {
      expect(load().push).toEqual({
        delayMs: 3000,
        perConversationPerMinute: 1,
        allowPrivateEndpoints: false,
        timeoutMs: 10_000,
        fcmServiceAccountFile: undefined,
        apns: undefined,
        vapid: undefined,
        vapidSubject: 'mailto:admin@localhost',
      });
      const apns = {
        APNS_KEY_FILE: '/k.p8',
        APNS_KEY_ID: 'K',
        APNS_TEAM_ID: 'T',
        APNS_BUNDLE_ID: 'com.x',
      };
      expect(load(apns).push.apns).toEqual({
        keyFile: '/k.p8',
        keyId: 'K',
        teamId: 'T',
        bundleId: 'com.x',
        production: false,
      });
      expectRefused({ APNS_KEY_FILE: '/k.p8' }, 'APNS_KEY_ID, APNS_TEAM_ID, APNS_BUNDLE_ID');
      expectRefused({ VAPID_PUBLIC_KEY: 'abc' }, 'VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY');
      expectRefused({ VAPID_SUBJECT: 'ops@example.com' }, 'VAPID_SUBJECT');
      expectRefused({ PUSH_DELAY_MS: '-1' }, 'PUSH_DELAY_MS');
      expect(load({ PUSH_PER_CONVERSATION_PER_MINUTE: '0' }).push.perConversationPerMinute).toBe(0);
    });

    it('SMS_WEBHOOK_URL must be http or https', () => {
      expectRefused(
        { SMS_DRIVER: 'webhook', SMS_WEBHOOK_URL: 'ftp://sms.example/send' },
        'SMS_WEBHOOK_URL',
      );
    });

    it.each(['has space', 'x'.repeat(41), 'a/b'])('REDIS_KEY_PREFIX=%p is refused', (prefix) => {
      expectRefused({ REDIS_KEY_PREFIX: prefix }, 'REDIS_KEY_PREFIX');
    });

    it('a blank REDIS_KEY_PREFIX means the default namespace', () => {
      expect(load({ REDIS_KEY_PREFIX: '' }).redis.keyPrefix).toBe('parley');
      expect(load({ REDIS_KEY_PREFIX: 'staging-1' }).redis.keyPrefix).toBe('staging-1');
    });

    it('NODE_ENV must be a known environment', () => {
      expectRefused({ NODE_ENV: 'staging' }, 'NODE_ENV');
    });

    it('reports every bad setting at once', () => {
      const error = configError({ PORT: 'abc', LOG_LEVEL: 'verbose', DATABASE_URL: 'nope' });
      expect(error.problems).toHaveLength(3);
      for (const setting of ['PORT', 'LOG_LEVEL', 'DATABASE_URL'])
        expect(error.message).toContain(setting);
    });

    it('does not echo a rejected value that may be secret', () => {
      const error = configError({ JWT_SECRET: 'short-secret-value' });
      expect(error.message).toContain('JWT_SECRET');
      expect(error.message).not.toContain('short-secret-value');
    });
  });

  describe('AUTH_TEST_OTP', () => {
    it('is accepted outside production', () => {
      expect(load({ NODE_ENV: 'test', AUTH_TEST_OTP: '246810' }).auth.testOtp).toBe('246810');
      expect(load({ NODE_ENV: 'development', AUTH_TEST_OTP: '000000' }).auth.testOtp).toBe(
        '000000',
      );
    });

    it('is refused under NODE_ENV=production', () => {
      const error = configError({
        ...PRODUCTION,
        AUTH_TEST_OTP: '123456',
      });
      expect(error.problems).toEqual([expect.stringMatching(/^AUTH_TEST_OTP:.*production/)]);
    });

    it.each(['12345', '1234567', 'abcdef'])('must be exactly 6 digits (%s)', (otp) => {
      expectRefused({ AUTH_TEST_OTP: otp }, 'AUTH_TEST_OTP');
    });
  });

  describe('production sign-in safety', () => {
    it('refuses the log SMS driver, which writes codes to the log, set or by default', () => {
      expectRefused({ ...PRODUCTION, SMS_DRIVER: 'log' }, 'SMS_DRIVER');
      expectRefused({ ...PRODUCTION, SMS_DRIVER: undefined }, 'SMS_DRIVER');
      expect(load({ SMS_DRIVER: 'log' }).sms.driver).toBe('log');
    });

    it('refuses OTP_MAX_ATTEMPTS=0 (unlimited guesses)', () => {
      expectRefused({ ...PRODUCTION, OTP_MAX_ATTEMPTS: '0' }, 'OTP_MAX_ATTEMPTS');
      expect(load({ OTP_MAX_ATTEMPTS: '0' }).auth.otpMaxAttempts).toBe(0);
      expect(load({ ...PRODUCTION, OTP_MAX_ATTEMPTS: '3' }).auth.otpMaxAttempts).toBe(3);
    });
  });

  describe('JWT_SECRET', () => {
    it('is optional, in production too: unset, signing keys live in the database', () => {
      const config = load(PRODUCTION);
      expect(config.auth.jwtSecret).toBeUndefined();
      expect(config.auth.jwtRotateDays).toBe(30);
      // Nothing is written to DATA_DIR in its place: instances share keys through the database.
      expect(existsSync(join(dataDir, 'jwt-secret'))).toBe(false);
    });

    it('is used as given when set', () => {
      const config = load({ ...PRODUCTION, JWT_SECRET: SECRET });
      expect(config.env).toBe('production');
      expect(config.auth.jwtSecret).toBe(SECRET);
    });

    it('must be at least 32 characters', () => {
      expectRefused({ JWT_SECRET: 'x'.repeat(31) }, 'JWT_SECRET');
      expect(load({ JWT_SECRET: 'x'.repeat(32) }).auth.jwtSecret).toBe('x'.repeat(32));
    });

    it('JWT_ROTATE_DAYS is a whole number of days; 0 turns rotation off', () => {
      expect(load({ JWT_ROTATE_DAYS: '0' }).auth.jwtRotateDays).toBe(0);
      expect(load({ JWT_ROTATE_DAYS: '7' }).auth.jwtRotateDays).toBe(7);
      expectRefused({ JWT_ROTATE_DAYS: '1.5' }, 'JWT_ROTATE_DAYS');
    });
  });

  describe('SMS driver', () => {
    it('SMS_WEBHOOK_URL is required for the webhook driver', () => {
      const error = configError({ SMS_DRIVER: 'webhook' });
      expect(error.problems).toEqual([expect.stringMatching(/^SMS_WEBHOOK_URL:.*webhook/)]);
    });

    it('the webhook driver works with a URL', () => {
      const config = load({ SMS_DRIVER: 'webhook', SMS_WEBHOOK_URL: 'https://sms.example/send' });
      expect(config.sms).toEqual({ driver: 'webhook', webhookUrl: 'https://sms.example/send' });
    });

    it('SMS_WEBHOOK_URL must be a URL, and the driver a known one', () => {
      expectRefused({ SMS_DRIVER: 'webhook', SMS_WEBHOOK_URL: 'not a url' }, 'SMS_WEBHOOK_URL');
      expectRefused({ SMS_DRIVER: 'carrier-pigeon' }, 'SMS_DRIVER');
    });

    it('the log driver needs no URL', () => {
      expect(load({ SMS_DRIVER: 'log' }).sms).toEqual({ driver: 'log', webhookUrl: undefined });
    });
  });

  describe('calls', () => {
    it('reads the ICE server lists and the TURN secret', () => {
      const config = load({
        STUN_URLS: 'stun:stun.example.org:3478, stuns:stun.example.org:5349',
        TURN_URLS: 'turn:turn.example.org:3478?transport=udp,turns:turn.example.org:5349',
        TURN_SECRET: 'a-turn-secret-of-some-length',
        TURN_TTL_SEC: '600',
        CALL_RING_TIMEOUT_SEC: '45',
        CALL_DISCONNECT_GRACE_SEC: '5',
        CALL_MAX_PARTICIPANTS: '4',
      });
      expect(config.calls).toEqual({
        ringTimeoutSec: 45,
        disconnectGraceSec: 5,
        maxParticipants: 4,
        stunUrls: ['stun:stun.example.org:3478', 'stuns:stun.example.org:5349'],
        turnUrls: ['turn:turn.example.org:3478?transport=udp', 'turns:turn.example.org:5349'],
        turnSecret: 'a-turn-secret-of-some-length',
        turnTtlSec: 600,
      });
    });

    it('the ring timeout and the disconnect grace are timers: 0 is refused', () => {
      expectRefused({ CALL_RING_TIMEOUT_SEC: '0' }, 'CALL_RING_TIMEOUT_SEC');
      expectRefused({ CALL_DISCONNECT_GRACE_SEC: '0' }, 'CALL_DISCONNECT_GRACE_SEC');
      expectRefused({ CALL_MAX_PARTICIPANTS: '1' }, 'CALL_MAX_PARTICIPANTS');
    });

    it('refuses URLs of the wrong scheme and TURN without a secret', () => {
      expectRefused({ STUN_URLS: 'turn:turn.example.org' }, 'STUN_URLS');
      expectRefused({ TURN_URLS: 'http://turn.example.org' }, 'TURN_URLS');
      expectRefused({ TURN_URLS: 'turn:turn.example.org' }, 'TURN_SECRET');
      expectRefused({ TURN_URLS: 'turn:turn.example.org', TURN_SECRET: 'short' }, 'TURN_SECRET');
      expectRefused({ TURN_TTL_SEC: '30' }, 'TURN_TTL_SEC');
    });
  });
});
