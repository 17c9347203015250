import {
  createDecipheriv,
  createECDH,
  hkdfSync,
  randomBytes,
  randomUUID,
  type ECDH,
} from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One push as a stand-in push service received it, with the payload decrypted. */
export interface ReceivedPush {
  /** Which registration it was for (the last path segment of the endpoint). */
  id: string;
  kind: 'webpush' | 'unifiedpush';
  headers: IncomingHttpHeaders;
  payload: Record<string, unknown>;
  at: number;
}

interface WebPushKeys {
  ecdh: ECDH;
  auth: Buffer;
}

/**
 * A local stand-in for Web Push services and UnifiedPush distributors, over real HTTP.
 * Web Push bodies are decrypted (RFC 8291, aes128gcm) with the subscription's private key,
 * so tests check what a browser would show. Answers 201, or 410 for endpoints marked gone.
 */
export class PushReceiver {
  readonly received: ReceivedPush[] = [];
  private readonly keys = new Map<string, WebPushKeys>();
  private readonly gone = new Set<string>();
  private server!: Server;
  base = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const id = (req.url ?? '').split('/').pop() ?? '';
        if (this.gone.has(id)) {
          res.writeHead(410).end();
          return;
        }
        const body = Buffer.concat(chunks);
        const keys = this.keys.get(id);
        try {
          const text = keys ? decryptAes128gcm(body, keys).toString('utf8') : body.toString('utf8');
          this.received.push({
            id,
            kind: keys ? 'webpush' : 'unifiedpush',
            headers: req.headers,
            payload: JSON.parse(text) as Record<string, unknown>,
            at: Date.now(),
          });
          res.writeHead(201).end();
        } catch {
          res.writeHead(400).end();
        }
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** A UnifiedPush endpoint URL and its id. */
  unifiedPushEndpoint(): { id: string; token: string } {
    const id = randomUUID();
    return { id, token: `${this.base}/up/${id}` };
  }

  /** A browser-like Web Push subscription (JSON) whose private key this receiver keeps. */
  webPushSubscription(): { id: string; token: string } {
    const id = randomUUID();
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const auth = randomBytes(16);
    this.keys.set(id, { ecdh, auth });
    const token = JSON.stringify({
      endpoint: `${this.base}/wp/${id}`,
      expirationTime: null,
      keys: {
        p256dh: ecdh.getPublicKey().toString('base64url'),
        auth: auth.toString('base64url'),
      },
    });
    return { id, token };
  }

  /** From now on the endpoint answers 410 Gone. */
  markGone(id: string): void {
    this.gone.add(id);
  }

  for(id: string): ReceivedPush[] {
    return this.received.filter((p) => p.id === id);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** RFC 8188 aes128gcm record with the RFC 8291 key derivation; one record. */
function decryptAes128gcm(body: Buffer, keys: WebPushKeys): Buffer {
  const salt = body.subarray(0, 16);
  const idLength = body[20];
  const senderPublic = body.subarray(21, 21 + idLength);
  const ciphertext = body.subarray(21 + idLength);
  const receiverPublic = keys.ecdh.getPublicKey();
  const secret = keys.ecdh.computeSecret(senderPublic);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), receiverPublic, senderPublic]);
  const ikm = Buffer.from(hkdfSync('sha256', secret, keys.auth, keyInfo, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, 'Content-Encoding: aes128gcm\0', 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, 'Content-Encoding: nonce\0', 12));
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  const padded = Buffer.concat([
    decipher.update(ciphertext.subarray(0, ciphertext.length - 16)),
    decipher.final(),
  ]);
  // The plaintext ends with the last-record delimiter (2) and optional zero padding.
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  return padded.subarray(0, end);
}
