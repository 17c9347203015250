import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type S3Settings } from '../../../../common/config/app-config';
import { MediaS3Storage } from './media.s3.storage';

const SECRET = 'test-secret-key-0123456789';

/** RFC 3986 encoding, as SigV4 wants it. */
const encode = (s: string) =>
  encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
const hmac = (key: string | Buffer, data: string) =>
  createHmac('sha256', key).update(data).digest();

/**
 * Checks a presigned GET URL the way S3 does (AWS Signature Version 4, query form):
 * rebuilds the canonical request and the signing key from the secret and compares.
 */
function verify(url: URL, secret: string, at: Date): { signatureValid: boolean; expired: boolean } {
  const q = url.searchParams;
  const [, date, region, service] = q.get('X-Amz-Credential')!.split('/');
  const amzDate = q.get('X-Amz-Date')!;
  const signedHeaders = q.get('X-Amz-SignedHeaders')!;
  const query = [...q.entries()]
    .filter(([k]) => k !== 'X-Amz-Signature')
    .map(([k, v]) => [encode(k), encode(v)])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const headers = signedHeaders
    .split(';')
    .map((h) => `${h}:${h === 'host' ? url.host : ''}\n`)
    .join('');
  const canonical = ['GET', url.pathname, query, headers, signedHeaders, 'UNSIGNED-PAYLOAD'].join(
    '\n',
  );
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    scope,
    createHash('sha256').update(canonical).digest('hex'),
  ].join('\n');
  let key = hmac(`AWS4${secret}`, date);
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  const signedAt = Date.UTC(
    Number(amzDate.slice(0, 4)),
    Number(amzDate.slice(4, 6)) - 1,
    Number(amzDate.slice(6, 8)),
    Number(amzDate.slice(9, 11)),
    Number(amzDate.slice(11, 13)),
    Number(amzDate.slice(13, 15)),
  );
  return {
    signatureValid: signature === q.get('X-Amz-Signature'),
    expired: at.getTime() > signedAt + Number(q.get('X-Amz-Expires')) * 1000,
  };
}

describe('MediaS3Storage presigned URLs', () => {
  let dataDir: string;
  const settings = (env: Record<string, string> = {}): S3Settings =>
    loadConfig({
      DATA_DIR: dataDir,
      S3_BUCKET: 'parley-media',
      S3_ENDPOINT: 'http://127.0.0.1:9000',
      S3_REGION: 'eu-west-1',
      S3_ACCESS_KEY_ID: 'AKIDTEST',
      S3_SECRET_ACCESS_KEY: SECRET,
      S3_FORCE_PATH_STYLE: 'true',
      ...env,
    }).s3!;

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'parley-s3-unit-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  const presign = async (env: Record<string, string> = {}, expiresInSec = 120) => {
    const storage = new MediaS3Storage(settings(env));
    try {
      const url = await storage.presignedGetUrl('blobs/ab/cd/abcdef', {
        expiresInSec,
        contentType: 'image/jpeg',
        contentDisposition: 'inline',
        cacheControl: 'private, max-age=120',
      });
      return new URL(url!);
    } finally {
      storage.close();
    }
  };

  it('signs a GET of the object with the configured key, region and expiry', async () => {
    const before = Date.now();
    const url = await presign();
    expect(url.origin).toBe('http://127.0.0.1:9000');
    expect(url.pathname).toBe('/parley-media/blobs/ab/cd/abcdef');
    const q = url.searchParams;
    expect(q.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(q.get('X-Amz-Credential')).toMatch(/^AKIDTEST\/\d{8}\/eu-west-1\/s3\/aws4_request$/);
    expect(q.get('X-Amz-Expires')).toBe('120');
    expect(q.get('response-content-type')).toBe('image/jpeg');
    expect(q.get('response-cache-control')).toBe('private, max-age=120');
    expect(verify(url, SECRET, new Date(before)).signatureValid).toBe(true);
  });

  it('expires after the configured time, and the expiry cannot be stretched', async () => {
    const signed = Date.now();
    const url = await presign({}, 60);
    expect(verify(url, SECRET, new Date(signed + 30_000)).expired).toBe(false);
    expect(verify(url, SECRET, new Date(signed + 62_000)).expired).toBe(true);
    const stretched = new URL(url);
    stretched.searchParams.set('X-Amz-Expires', '604800');
    expect(verify(stretched, SECRET, new Date(signed)).signatureValid).toBe(false);
  });

  it('is valid only for the object, the response headers and the secret it was made with', async () => {
    const url = await presign();
    const otherObject = new URL(url);
    otherObject.pathname = '/parley-media/blobs/ab/cd/other';
    expect(verify(otherObject, SECRET, new Date()).signatureValid).toBe(false);
    const otherType = new URL(url);
    otherType.searchParams.set('response-content-type', 'text/html');
    expect(verify(otherType, SECRET, new Date()).signatureValid).toBe(false);
    expect(verify(url, 'another-secret', new Date()).signatureValid).toBe(false);
  });

  it('signs for the public endpoint when there is one', async () => {
    const url = await presign({ S3_PUBLIC_ENDPOINT: 'https://media.example.com' });
    expect(url.origin).toBe('https://media.example.com');
    expect(verify(url, SECRET, new Date()).signatureValid).toBe(true);
  });

  it('uses virtual-hosted addressing unless path style is asked for', async () => {
    const url = await presign({
      S3_ENDPOINT: 'https://s3.eu-west-1.amazonaws.com',
      S3_FORCE_PATH_STYLE: 'false',
    });
    expect(url.host).toBe('parley-media.s3.eu-west-1.amazonaws.com');
    expect(url.pathname).toBe('/blobs/ab/cd/abcdef');
    expect(verify(url, SECRET, new Date()).signatureValid).toBe(true);
  });

  it('hands out no URL when presigned downloads are off (Parley streams instead)', async () => {
    const storage = new MediaS3Storage(settings({ S3_PRESIGNED_DOWNLOADS: 'false' }));
    try {
      expect(
        await storage.presignedGetUrl('blobs/ab/cd/abcdef', {
          expiresInSec: 60,
          contentType: 'image/jpeg',
        }),
      ).toBeNull();
    } finally {
      storage.close();
    }
  });
});
