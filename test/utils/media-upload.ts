import type { TestApp } from './test-app';

/** Uploads a file through POST /media as a multipart form, as a client does. */
export async function upload(
  t: TestApp,
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
