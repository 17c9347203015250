import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, type EnvironmentSource } from '../../common/config/app-config';

/** The MEDIA_* and S3_* settings, as the config module validates them. */
describe('media settings', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'parley-media-config-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  const load = (env: EnvironmentSource = {}) => loadConfig({ DATA_DIR: dataDir, ...env });
  const problems = (env: EnvironmentSource): string[] => {
    try {
      load(env);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).problems;
    }
    throw new Error('expected a ConfigError');
  };

  it('defaults: 16 MiB images, 100 MiB others, 500 MiB an hour, local disk', () => {
    const config = load();
    expect(config.media).toEqual({
      maxBytes: {
        image: 16 * 1024 * 1024,
        video: 104857600,
        audio: 104857600,
        document: 104857600,
      },
      maxImagePixels: 100_000_000,
      uploadQuotaBytesPerHour: 500 * 1024 * 1024,
      urlExpirySec: 300,
      uploadExpirySec: 86_400,
      thumbnailMaxPx: 320,
      ffmpegPath: 'ffmpeg',
      ffprobePath: 'ffprobe',
      ffmpegTimeoutMs: 30_000,
      imageQueueMax: 32,
    });
    expect(config.s3).toBeUndefined();
  });

  it('reads every setting; 0 turns the quota off', () => {
    const config = load({
      MEDIA_MAX_IMAGE_BYTES: '1000',
      MEDIA_MAX_VIDEO_BYTES: '2000',
      MEDIA_MAX_AUDIO_BYTES: '3000',
      MEDIA_MAX_DOCUMENT_BYTES: '4000',
      MEDIA_MAX_IMAGE_PIXELS: '5000',
      MEDIA_UPLOAD_QUOTA_BYTES_PER_HOUR: '0',
      MEDIA_URL_EXPIRY_SEC: '60',
      MEDIA_UPLOAD_EXPIRY_SEC: '3600',
      MEDIA_THUMBNAIL_MAX_PX: '256',
      MEDIA_FFMPEG_PATH: '/opt/ffmpeg/bin/ffmpeg',
      MEDIA_FFPROBE_PATH: '/opt/ffmpeg/bin/ffprobe',
      MEDIA_FFMPEG_TIMEOUT_MS: '5000',
      MEDIA_IMAGE_QUEUE_MAX: '0',
    });
    expect(config.media).toMatchObject({
      maxBytes: { image: 1000, video: 2000, audio: 3000, document: 4000 },
      maxImagePixels: 5000,
      uploadQuotaBytesPerHour: 0,
      urlExpirySec: 60,
      uploadExpirySec: 3600,
      thumbnailMaxPx: 256,
      ffmpegPath: '/opt/ffmpeg/bin/ffmpeg',
      ffmpegTimeoutMs: 5000,
      imageQueueMax: 0,
    });
  });

  it('turns S3 on with S3_BUCKET', () => {
    const config = load({
      S3_BUCKET: 'parley-media',
      S3_ENDPOINT: 'http://minio:9000',
      S3_PUBLIC_ENDPOINT: 'https://media.example.com',
      S3_REGION: 'eu-central-1',
      S3_ACCESS_KEY_ID: 'key',
      S3_SECRET_ACCESS_KEY: 'secret',
      S3_FORCE_PATH_STYLE: 'true',
      S3_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
      S3_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
      S3_PRESIGNED_DOWNLOADS: 'false',
    });
    expect(config.s3).toEqual({
      bucket: 'parley-media',
      endpoint: 'http://minio:9000',
      publicEndpoint: 'https://media.example.com',
      region: 'eu-central-1',
      credentials: { accessKeyId: 'key', secretAccessKey: 'secret' },
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      presignedDownloads: false,
    });
    expect(load({ S3_BUCKET: 'aws-bucket' }).s3).toMatchObject({
      endpoint: undefined,
      region: 'us-east-1',
      credentials: undefined,
      forcePathStyle: false,
      requestChecksumCalculation: 'WHEN_SUPPORTED',
      presignedDownloads: true,
    });
  });

  it('refuses bad values, naming the setting and never echoing a secret', () => {
    expect(problems({ MEDIA_MAX_IMAGE_BYTES: '0' })).toEqual([
      expect.stringMatching(/^MEDIA_MAX_IMAGE_BYTES:/),
    ]);
    expect(problems({ MEDIA_MAX_VIDEO_BYTES: String(6 * 1024 ** 3) })).toEqual([
      expect.stringMatching(/^MEDIA_MAX_VIDEO_BYTES:.*5 GiB/),
    ]);
    expect(problems({ MEDIA_URL_EXPIRY_SEC: '604801' })).toEqual([
      expect.stringMatching(/^MEDIA_URL_EXPIRY_SEC:/),
    ]);
    expect(problems({ MEDIA_UPLOAD_QUOTA_BYTES_PER_HOUR: ' ' })).toEqual([
      expect.stringMatching(/^MEDIA_UPLOAD_QUOTA_BYTES_PER_HOUR:/),
    ]);
    expect(problems({ S3_BUCKET: 'b1b', S3_ENDPOINT: 'ftp://store' })).toEqual([
      expect.stringMatching(/^S3_ENDPOINT:/),
    ]);
    expect(problems({ S3_BUCKET: 'b1b', S3_REQUEST_CHECKSUM_CALCULATION: 'SOMETIMES' })).toEqual([
      expect.stringMatching(/^S3_REQUEST_CHECKSUM_CALCULATION:/),
    ]);
    const keyAlone = problems({ S3_BUCKET: 'b1b', S3_SECRET_ACCESS_KEY: 'very-secret-value' });
    expect(keyAlone).toEqual([expect.stringMatching(/^S3_ACCESS_KEY_ID:/)]);
    expect(keyAlone.join()).not.toContain('very-secret-value');
  });

  it('refuses S3 settings without a bucket instead of silently using local disk', () => {
    expect(problems({ S3_ENDPOINT: 'http://127.0.0.1:9000' })).toEqual([
      expect.stringMatching(/^S3_BUCKET:.*S3_ENDPOINT/),
    ]);
  });
});
