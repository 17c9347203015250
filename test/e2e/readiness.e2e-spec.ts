import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { http } from '../utils/http';
import { startTestApp } from '../utils/test-app';

// Its own file: a second app in the operations suite's process would share its metrics.
describe('readiness (e2e)', () => {
  it('GET /health/ready is 503 when the media store fails, without its error text', async () => {
    const other = await startTestApp();
    try {
      const mediaDir = join(other.config.dataDir, 'media');
      rmSync(mediaDir, { recursive: true, force: true });
      // A file where the media directory should be: the store can neither create nor use it.
      writeFileSync(mediaDir, 'not a directory');
      const res = await http(other.url, 'GET', '/health/ready');
      expect(res.status).toBe(503);
      expect(res.body.status).toBe('unavailable');
      expect(res.body.checks.media).toEqual({ status: 'down', error: 'unavailable' });
      expect(res.body.checks.database).toEqual({ status: 'up' });
      expect(JSON.stringify(res.body)).not.toContain(other.config.dataDir);
    } finally {
      await other.close();
    }
  });
});
