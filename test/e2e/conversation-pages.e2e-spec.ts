import { randomUUID } from 'node:crypto';
import { signIn } from '../utils/clients';
import { http, type HttpResult } from '../utils/http';
import { startTestApp, type TestApp } from '../utils/test-app';

describe('GET /conversations pages (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('without limit or cursor answers the whole list as before; with them, pages through it by Link', async () => {
    const me = await signIn(t);
    for (let i = 0; i < 7; i++) {
      const peer = await signIn(t);
      const sent = await http(t.api, 'POST', '/messages', {
        token: me.accessToken,
        body: {
          clientMsgId: randomUUID(),
          recipientId: peer.userId,
          type: 'text',
          body: `hi ${i}`,
        },
      });
      expect(sent.status).toBe(201);
    }
    const all = await http(t.api, 'GET', '/conversations', { token: me.accessToken });
    expect(all.status).toBe(200);
    expect(Array.isArray(all.body)).toBe(true);
    expect(all.body).toHaveLength(7);
    expect(all.headers.get('link')).toBeNull();

    const seen: string[] = [];
    let path: string | null = '/conversations?limit=3';
    let pages = 0;
    while (path) {
      const page: HttpResult = await http(t.api, 'GET', path, { token: me.accessToken });
      expect(page.status).toBe(200);
      expect(Array.isArray(page.body)).toBe(true);
      expect(page.body.length).toBeLessThanOrEqual(3);
      seen.push(...page.body.map((c: { id: string }) => c.id));
      pages += 1;
      const link: string | null = page.headers.get('link');
      const next: string | null =
        link?.match(/<[^>]*\/api\/v1(\/conversations\?[^>]+)>; rel="next"/)?.[1] ?? null;
      if (next) expect(page.headers.get('x-next-cursor')).toEqual(expect.any(String));
      path = next;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(all.body.map((c: { id: string }) => c.id));
  });

  it('refuses a malformed cursor or limit with VALIDATION_FAILED', async () => {
    const me = await signIn(t);
    for (const q of ['cursor=nonsense', 'limit=0', 'limit=abc', 'limit=501']) {
      const res = await http(t.api, 'GET', `/conversations?${q}`, { token: me.accessToken });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
    }
  });
});
