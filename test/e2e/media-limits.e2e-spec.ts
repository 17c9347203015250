import { jpeg } from '../fixtures/media-files';
import { signIn } from '../utils/clients';
import { uploadMedia } from '../utils/media';
import { startTestApp, type TestApp } from '../utils/test-app';

describe('image re-encoding queue bound (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { MEDIA_IMAGE_QUEUE_MAX: '1' } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('refuses image uploads beyond MEDIA_IMAGE_QUEUE_MAX waiting with 503 and Retry-After', async () => {
    const s = await signIn(t);
    const images = await Promise.all(Array.from({ length: 12 }, (_, i) => jpeg(2000, 2000, i)));
    const answers = await Promise.all(
      images.map((data, i) => uploadMedia(t, s.accessToken, data, `p${i}.jpg`, 'image/jpeg')),
    );
    const refused = answers.filter((a) => a.status === 503);
    const stored = answers.filter((a) => a.status === 201);
    expect(refused.length + stored.length).toBe(12);
    // 2 re-encoding and 1 waiting at most when the flood arrives; the rest are refused.
    expect(refused.length).toBeGreaterThan(0);
    expect(stored.length).toBeGreaterThanOrEqual(3);
    expect(refused[0].body).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryAfterMs: 2000 });
    // Once the line drains, uploads are accepted again.
    const later = await uploadMedia(
      t,
      s.accessToken,
      await jpeg(64, 64, 99),
      'x.jpg',
      'image/jpeg',
    );
    expect(later.status).toBe(201);
  });
});
