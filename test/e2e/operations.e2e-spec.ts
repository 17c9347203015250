import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, request, signIn, sleep } from '../utils/clients';
import { http } from '../utils/http';
import { startTestApp, type TestApp } from '../utils/test-app';

describe('operations (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  const scrape = async (): Promise<string> => {
    const res = await http<string>(t.url, 'GET', '/metrics');
    expect(res.status).toBe(200);
    return res.body;
  };

  /** The value of an unlabelled sample, e.g. a gauge. */
  const sample = (text: string, name: string): number => {
    const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    if (!match) throw new Error(`no sample ${name} in the scrape`);
    return Number(match[1]);
  };

  /** Polls the scrape until the sample has the expected value (server events are async). */
  const waitForSample = async (name: string, expected: number, timeoutMs = 5000) => {
    const deadline = Date.now() + timeoutMs;
    let value = sample(await scrape(), name);
    while (value !== expected && Date.now() < deadline) {
      await sleep(25);
      value = sample(await scrape(), name);
    }
    return value;
  };

  describe('health', () => {
    it('GET /health/live answers 200 without a token', async () => {
      const res = await http(t.url, 'GET', '/health/live');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'ok' });
    });

    it('GET /health/ready answers 200 with every configured backend up', async () => {
      const res = await http(t.url, 'GET', '/health/ready');
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('ok');
      expect(res.body.checks.database).toEqual({ status: 'up' });
      expect(res.body.checks.media).toEqual({ status: 'up' });
      if (t.config.redis.url) expect(res.body.checks.redis).toEqual({ status: 'up' });
      else expect(res.body.checks.redis).toBeUndefined();
    });

    it('lives at the root, not under /api/v1', async () => {
      expect((await http(t.api, 'GET', '/health/live')).status).toBe(404);
      expect((await http(t.api, 'GET', '/metrics')).status).toBe(404);
    });
  });

  describe('metrics', () => {
    it('serves Prometheus text with the Node.js defaults and the parley_ metrics', async () => {
      // One request first, so that the latency histogram has a sample.
      expect((await http(t.url, 'GET', '/health/live')).status).toBe(200);
      const res = await http<string>(t.url, 'GET', '/metrics');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      const text = res.body;
      expect(typeof text).toBe('string');

      expect(text).toMatch(/^# TYPE nodejs_heap_size_used_bytes gauge$/m);
      expect(sample(text, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);

      expect(text).toMatch(/^# TYPE parley_socket_connections gauge$/m);
      expect(Number.isInteger(sample(text, 'parley_socket_connections'))).toBe(true);

      // Required by the protocol and the README respectively.
      expect(text).toMatch(/^# TYPE parley_messages_stored_total counter$/m);
      expect(text).toMatch(/^# TYPE parley_db_statements_total counter$/m);

      expect(text).toMatch(/^# TYPE parley_http_request_duration_seconds histogram$/m);
      const count =
        /^parley_http_request_duration_seconds_count\{[^}]*route="\/health\/live"[^}]*\} (\d+)$/m.exec(
          text,
        );
      expect(count).not.toBeNull();
      expect(Number(count![1])).toBeGreaterThanOrEqual(1);
    });

    it('labels request latency by route pattern, not by concrete path', async () => {
      const s = await signIn(t);
      const id = s.userId;
      expect((await http(t.api, 'GET', `/users/${id}`, { token: s.accessToken })).status).toBe(200);
      const text = await scrape();
      expect(text).toMatch(
        /^parley_http_request_duration_seconds_count\{[^}]*method="GET"[^}]*route="\/api\/v1\/users\/:id"[^}]*status="200"[^}]*\} \d+$/m,
      );
      expect(text).not.toContain(id);
    });

    it('counts connected sockets in parley_socket_connections', async () => {
      const s = await signIn(t);
      const before = sample(await scrape(), 'parley_socket_connections');

      const socket = await connect(t, s.accessToken);
      try {
        expect(await waitForSample('parley_socket_connections', before + 1)).toBe(before + 1);
      } finally {
        socket.close();
      }
      expect(await waitForSample('parley_socket_connections', before)).toBe(before);

      // A refused handshake is never counted.
      await expect(connect(t, 'not-a-token')).rejects.toThrow('UNAUTHORIZED');
      await sleep(100);
      expect(sample(await scrape(), 'parley_socket_connections')).toBe(before);
    });

    it('counts socket events by outcome, errors by code, limits, jobs and pools', async () => {
      const s = await signIn(t);
      const socket = await connect(t, s.accessToken);
      try {
        expect((await request(socket, 'sync', {})).ok).toBe(true);
        expect((await request(socket, 'no:such-event', {})).ok).toBe(false);
        expect((await request(socket, 'sync', { limit: 'many' })).ok).toBe(false);
        const direct = await http(t.api, 'POST', '/conversations/direct', {
          token: s.accessToken,
          body: { userId: (await signIn(t)).userId },
        });
        const id = (direct.body as { id: string }).id;
        // The second start within the throttle window is refused by the typing limit.
        await request(socket, 'typing', { conversationId: id, isTyping: true });
        const throttled = await request(socket, 'typing', { conversationId: id, isTyping: true });
        expect(throttled).toMatchObject({ ok: true, throttled: true });
      } finally {
        socket.close();
      }
      expect((await http(t.api, 'GET', '/no-such-route')).status).toBe(404);

      const text = await scrape();
      const value = (pattern: RegExp): number => {
        const match = pattern.exec(text);
        if (!match) throw new Error(`no sample matching ${String(pattern)}`);
        return Number(match[1]);
      };
      expect(
        value(/^parley_socket_events_total\{event="sync",outcome="ok"\} (\S+)$/m),
      ).toBeGreaterThanOrEqual(1);
      expect(
        value(/^parley_socket_events_total\{event="sync",outcome="VALIDATION_FAILED"\} (\S+)$/m),
      ).toBeGreaterThanOrEqual(1);
      expect(
        value(/^parley_socket_events_total\{event="unknown",outcome="VALIDATION_FAILED"\} (\S+)$/m),
      ).toBeGreaterThanOrEqual(1);
      expect(text).not.toContain('no:such-event');
      expect(
        value(/^parley_socket_event_duration_seconds_count\{event="sync"\} (\S+)$/m),
      ).toBeGreaterThanOrEqual(2);
      expect(
        value(/^parley_errors_total\{code="NOT_FOUND",transport="http"\} (\S+)$/m),
      ).toBeGreaterThanOrEqual(1);
      expect(
        value(/^parley_errors_total\{code="VALIDATION_FAILED",transport="socket"\} (\S+)$/m),
      ).toBeGreaterThanOrEqual(2);
      expect(value(/^parley_rate_limited_total\{limit="typing"\} (\S+)$/m)).toBeGreaterThanOrEqual(
        1,
      );
      expect(value(/^parley_db_pool_connections\{state="total"\} (\S+)$/m)).toBeGreaterThanOrEqual(
        1,
      );
      expect(text).toMatch(/^# TYPE parley_queue_jobs gauge$/m);
      expect(text).toMatch(/^parley_queue_jobs\{queue="[^"]+",state="waiting"\} \d+$/m);
      expect(text).toMatch(/^# TYPE parley_jobs_total counter$/m);
      if (t.config.redis.url)
        expect(text).toMatch(/^parley_redis_connections_ready\{connection="parley:shared"\} 1$/m);
    });
  });

  describe('dashboard and alert rules', () => {
    it('name only metrics that GET /metrics exposes', async () => {
      // Job outcomes appear once a job has run; the purge jobs run when the app starts.
      const text = await scrape();
      const exposed = new Set(
        [...text.matchAll(/^# TYPE (parley_\w+) (\w+)$/gm)].flatMap(([, name, type]) =>
          type === 'histogram' ? [`${name}_bucket`, `${name}_count`, `${name}_sum`] : [name],
        ),
      );
      const root = join(__dirname, '..', '..', 'deploy');
      for (const file of ['grafana/parley-dashboard.json', 'prometheus/parley-alerts.yml']) {
        const named = new Set(readFileSync(join(root, file), 'utf8').match(/parley_\w+/g) ?? []);
        expect(named.size).toBeGreaterThan(3);
        expect([...named].filter((n) => !exposed.has(n))).toEqual([]);
      }
      // The dashboard is valid JSON with panels that all have a query.
      const dashboard = JSON.parse(
        readFileSync(join(root, 'grafana/parley-dashboard.json'), 'utf8'),
      ) as { panels: Array<{ targets: Array<{ expr: string }> }> };
      expect(dashboard.panels.every((p) => p.targets.every((t) => t.expr.length > 0))).toBe(true);
    });
  });

  describe('OpenAPI', () => {
    it('GET /docs serves the HTML UI', async () => {
      const res = await http<string>(t.url, 'GET', '/docs');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.body).toMatch(/<html/i);
      expect(res.body).toMatch(/swagger-ui/i);
    });

    it('GET /docs-json is the OpenAPI document of the REST API', async () => {
      const res = await http(t.url, 'GET', '/docs-json');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const doc = res.body;
      expect(doc.openapi).toMatch(/^3\./);
      expect(typeof doc.info.title).toBe('string');
      const paths = Object.keys(doc.paths);
      expect(paths).toEqual(
        expect.arrayContaining(['/api/v1/auth/otp', '/api/v1/auth/verify', '/api/v1/users/me']),
      );
      expect(doc.paths['/api/v1/auth/otp'].post).toBeDefined();
      expect(doc.paths['/api/v1/auth/verify'].post).toBeDefined();
      expect(doc.paths['/api/v1/users/me'].get).toBeDefined();
      expect(doc.paths['/api/v1/users/me'].patch).toBeDefined();
    });
  });

  describe('requests', () => {
    it('echoes a well-formed x-request-id and replaces an oversized one', async () => {
      const given = await http(t.url, 'GET', '/health/live', {
        headers: { 'x-request-id': 'client-req-0001' },
      });
      expect(given.status).toBe(200);
      expect(given.headers.get('x-request-id')).toBe('client-req-0001');
      const oversized = await http(t.url, 'GET', '/health/live', {
        headers: { 'x-request-id': 'x'.repeat(200) },
      });
      expect(oversized.status).toBe(200);
      expect(oversized.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      const generated = await http(t.url, 'GET', '/health/live');
      expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      const s = await signIn(t);
      const res = await http(t.api, 'GET', '/users/me', {
        token: s.accessToken,
        headers: { 'x-request-id': 'client-req-0002' },
      });
      expect(res.status).toBe(200);
      expect(res.body.id).toBe(s.userId);
    });

    it('refuses a 2 MB JSON body with 413 PAYLOAD_TOO_LARGE', async () => {
      const rawBody = JSON.stringify({
        phone: '+14155550101',
        padding: 'x'.repeat(2 * 1024 * 1024),
      });
      const res = await http(t.api, 'POST', '/auth/otp', { rawBody });
      expect(res.status).toBe(413);
      expect(res.body).toEqual({
        statusCode: 413,
        code: 'PAYLOAD_TOO_LARGE',
        message: expect.any(String),
      });
      // The server is fine afterwards.
      expect((await http(t.url, 'GET', '/health/live')).status).toBe(200);
    });

    it('still parses a JSON body just under 1 MiB', async () => {
      const rawBody = JSON.stringify({ phone: '+14155550101', padding: 'x'.repeat(1_000_000) });
      expect(Buffer.byteLength(rawBody)).toBeLessThan(1024 * 1024);
      const res = await http(t.api, 'POST', '/auth/otp', { rawBody });
      // Parsed and then refused for the unknown field, not for its size.
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
    });

    it('answers an unknown route with 404 NOT_FOUND in the standard error shape', async () => {
      for (const [base, method, path] of [
        [t.api, 'GET', '/no/such/route'],
        [t.api, 'POST', '/no-such-thing'],
        [t.url, 'GET', '/no-such-root-route'],
      ] as const) {
        const res = await http(base, method, path);
        expect(res.status).toBe(404);
        expect(res.headers.get('content-type')).toMatch(/^application\/json/);
        expect(res.body).toEqual({
          statusCode: 404,
          code: 'NOT_FOUND',
          message: expect.any(String),
        });
      }
    });
  });
});
