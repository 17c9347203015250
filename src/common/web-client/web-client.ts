import { Controller, Get, Module } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { Public } from '../auth/public.decorator';
import { AppConfig } from '../config/app-config';

/**
 * The web client's pages run only the scripts and styles the server ships beside them,
 * talk only to this origin (REST and Socket.IO), and show images it fetched as blobs.
 */
export const WEB_CLIENT_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** What the sign-in page tells people about codes on this server (GET /client-config). */
export interface ClientConfig {
  testOtp: boolean;
  smsDriver: 'log' | 'webhook';
}

@ApiTags('web client')
@Controller('client-config')
export class ClientConfigController {
  constructor(private readonly config: AppConfig) {}

  @Public()
  @Get()
  @ApiOperation({ summary: 'How sign-in codes reach people on this server (for the web client)' })
  @ApiOkResponse({ description: '{ testOtp, smsDriver }' })
  get(): ClientConfig {
    return { testOtp: this.config.auth.testOtp !== undefined, smsDriver: this.config.sms.driver };
  }
}

@Module({ controllers: [ClientConfigController] })
export class WebClientModule {}

/**
 * Serves the built web client at `/` with its Content-Security-Policy; hashed assets
 * are cached for good, index.html never. Returns false when nothing is built there.
 */
export function serveWebClient(app: NestExpressApplication, dir: string): boolean {
  if (!existsSync(join(dir, 'index.html'))) return false;
  app.useStaticAssets(dir, {
    index: 'index.html',
    setHeaders: (res: ServerResponse, path: string) => {
      res.setHeader('Content-Security-Policy', WEB_CLIENT_CSP);
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('Referrer-Policy', 'no-referrer');
      res.setHeader(
        'Cache-Control',
        path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
  return true;
}
