import type { TestApp } from './test-app';

/** POST /media as multipart/form-data, the file in field `file`; the JSON answer. */
export async function uploadMedia(
  t: Pick<TestApp, 'api'>,
  token: string,
  data: Buffer,
  name: string,
  type = 'application/octet-stream',
  field = 'file',
): Promise<{ status: number; body: any }> {
  const form = new FormData();
  form.append(field, new Blob([new Uint8Array(data)], { type }), name);
  const res = await fetch(`${t.api}/media`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/**
 * GET of a binary resource by its absolute path (as the API hands out URLs, e.g.
 * `/api/v1/media/{id}`); the status, the bytes, and the JSON error body if any.
 */
export async function fetchBytes(
  t: Pick<TestApp, 'url'>,
  token: string,
  path: string,
): Promise<{ status: number; data: Buffer; body: any }> {
  const res = await fetch(`${t.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const data = Buffer.from(await res.arrayBuffer());
  let body: any;
  try {
    body = JSON.parse(data.toString('utf8'));
  } catch {
    body = undefined;
  }
  return { status: res.status, data, body };
}
