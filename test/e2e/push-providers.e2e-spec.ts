import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent as HttpAgent, createServer, type IncomingMessage, type Server } from 'node:http';
import { createSecureServer, type Http2SecureServer, type IncomingHttpHeaders } from 'node:http2';
import { connect as netConnect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PushApnsSender } from '../../src/modules/notifications/adapters/apns/push.apns.sender';
import { PushFcmSender } from '../../src/modules/notifications/adapters/fcm/push.fcm.sender';
import type { PushMessage } from '../../src/modules/notifications/domain/push';

const message: PushMessage = {
  payload: { type: 'message', conversationId: 'c-1', unreadCount: 3, badge: 5 },
  collapseKey: 'c1',
  urgent: false,
};
const call: PushMessage = {
  payload: { type: 'call', callId: 'k-1', callerId: 'u-1', media: 'audio' },
  urgent: true,
};

/** Sends every "https" request of firebase-admin to a local plain-HTTP stand-in. */
class StandInAgent extends HttpAgent {
  declare protocol: string;
  constructor(private readonly port: number) {
    super();
    this.protocol = 'https:';
  }
  override createConnection(): ReturnType<typeof netConnect> {
    return netConnect(this.port, '127.0.0.1');
  }
}

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => resolve(body));
  });

describe('FCM adapter against a local stand-in', () => {
  let server: Server;
  let sender: PushFcmSender;
  const seen: Array<{ path: string; auth: string | undefined; body: Record<string, any> }> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      void readBody(req).then((text) => {
        const body = JSON.parse(text) as { message: { token: string } };
        seen.push({ path: req.url ?? '', auth: req.headers.authorization, body });
        res.setHeader('content-type', 'application/json');
        if (body.message.token === 'gone-token-0123456789') {
          res.writeHead(404).end(
            JSON.stringify({
              error: {
                code: 404,
                status: 'NOT_FOUND',
                message: 'Requested entity was not found.',
                details: [
                  {
                    '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError',
                    errorCode: 'UNREGISTERED',
                  },
                ],
              },
            }),
          );
          return;
        }
        if (body.message.token === 'flaky-token-0123456789') {
          res.writeHead(503).end(JSON.stringify({ error: { code: 503, status: 'UNAVAILABLE' } }));
          return;
        }
        res.writeHead(200).end(JSON.stringify({ name: 'projects/parley-test/messages/1' }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    sender = new PushFcmSender(
      {
        projectId: 'parley-test',
        httpAgent: new StandInAgent(port),
        credential: {
          getAccessToken: async () => ({ access_token: 'stand-in-token', expires_in: 3600 }),
        },
      },
      { legacyHttpTransport: true },
    );
  });
  afterAll(async () => {
    await sender.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends a collapsed data message, and a high-priority call without collapse key', async () => {
    expect(await sender.send('fcm', 'device-token-0123456789', message)).toBe('sent');
    expect(await sender.send('fcm', 'device-token-0123456789', call)).toBe('sent');
    expect(seen[0].path).toBe('/v1/projects/parley-test/messages:send');
    expect(seen[0].auth).toBe('Bearer stand-in-token');
    expect(seen[0].body.message).toEqual({
      token: 'device-token-0123456789',
      data: { type: 'message', conversationId: 'c-1', unreadCount: '3', badge: '5' },
      android: { priority: 'normal', ttl: '86400s', collapse_key: 'c1' },
    });
    expect(seen[1].body.message.android).toEqual({ priority: 'high', ttl: '60s' });
    expect(seen[1].body.message.data).toEqual({
      type: 'call',
      callId: 'k-1',
      callerId: 'u-1',
      media: 'audio',
    });
  });

  it('reports an unregistered token as gone and throws on errors worth a retry', async () => {
    expect(await sender.send('fcm', 'gone-token-0123456789', message)).toBe('gone');
    await expect(sender.send('fcm', 'flaky-token-0123456789', message)).rejects.toThrow();
  });
});

describe('APNs adapter against a local HTTP/2 stand-in', () => {
  let dir: string;
  let server: Http2SecureServer;
  let sender: PushApnsSender;
  const seen: Array<{ headers: IncomingHttpHeaders; body: Record<string, any> }> = [];
  const goneToken = 'ff'.repeat(32);
  const okToken = 'ab'.repeat(32);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'apns-stand-in-'));
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    const signingKey = join(dir, 'signing.p8');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    execFileSync(
      'openssl',
      ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', signingKey],
      { stdio: 'ignore' },
    );
    server = createSecureServer({ key: readFileSync(key), cert: readFileSync(cert) });
    server.on('stream', (stream, headers) => {
      let text = '';
      stream.on('data', (c: Buffer) => (text += c.toString()));
      stream.on('end', () => {
        seen.push({ headers, body: JSON.parse(text) as Record<string, any> });
        if (String(headers[':path']).endsWith(goneToken)) {
          stream.respond({ ':status': 410 });
          stream.end(JSON.stringify({ reason: 'Unregistered', timestamp: Date.now() }));
          return;
        }
        stream.respond({ ':status': 200, 'apns-id': 'x' });
        stream.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    sender = new PushApnsSender({
      bundleId: 'com.example.parley',
      provider: {
        token: { key: readFileSync(signingKey), keyId: 'KEY1234567', teamId: 'TEAM123456' },
        address: 'localhost',
        port,
        ca: [readFileSync(cert)],
      },
    });
  });
  afterAll(async () => {
    await sender.close();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends a content-free alert collapsed per conversation, and a VoIP push for a call', async () => {
    expect(await sender.send('apns', okToken, message)).toBe('sent');
    expect(await sender.send('apns-voip', okToken, call)).toBe('sent');
    const [alert, voip] = seen;
    expect(alert.headers[':path']).toBe(`/3/device/${okToken}`);
    expect(alert.headers['apns-topic']).toBe('com.example.parley');
    expect(alert.headers['apns-push-type']).toBe('alert');
    expect(alert.headers['apns-collapse-id']).toBe('c1');
    expect(String(alert.headers.authorization)).toMatch(/^bearer /);
    expect(alert.body).toEqual({
      type: 'message',
      conversationId: 'c-1',
      unreadCount: 3,
      badge: 5,
      aps: { alert: { 'loc-key': 'MESSAGE' }, 'mutable-content': 1, badge: 5 },
    });
    expect(voip.headers['apns-topic']).toBe('com.example.parley.voip');
    expect(voip.headers['apns-push-type']).toBe('voip');
    expect(voip.headers['apns-priority']).toBe('10');
    expect(voip.headers['apns-collapse-id']).toBeUndefined();
    expect(voip.body).toMatchObject({
      type: 'call',
      callId: 'k-1',
      callerId: 'u-1',
      media: 'audio',
    });
  });

  it('reports a token APNs says is unregistered as gone', async () => {
    expect(await sender.send('apns', goneToken, message)).toBe('gone');
  });
});
