import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { cert } from 'firebase-admin/app';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import webpush from 'web-push';
import { AppConfig } from '../../common/config/app-config';
import { PushApnsSender } from './adapters/apns/push.apns.sender';
import { EndpointHttpClient } from './adapters/endpoint-http';
import { PushFcmSender } from './adapters/fcm/push.fcm.sender';
import { PushLogSender } from './adapters/log/push.log.sender';
import { PushUnifiedPushSender } from './adapters/unifiedpush/push.unifiedpush.sender';
import { PushWebPushSender, type VapidKeys } from './adapters/webpush/push.webpush.sender';
import type { PushProvider } from './domain/push';
import { PushSender } from './ports/push.sender';

interface Closeable {
  close(): unknown;
}

/**
 * The sender of each provider, chosen from settings: the real adapter where credentials
 * are set (UnifiedPush needs none), the log driver otherwise.
 */
@Injectable()
export class PushSenders implements OnModuleDestroy {
  private readonly logger = new Logger('Push');
  private readonly senders = new Map<PushProvider, PushSender>();
  private readonly owned: Closeable[] = [];
  /** The VAPID public key browsers subscribe with; null when Web Push goes to the log. */
  readonly vapidPublicKey: string | null;

  constructor(config: AppConfig) {
    const log = new PushLogSender();
    const http = new EndpointHttpClient({
      allowPrivateEndpoints: config.push.allowPrivateEndpoints,
      timeoutMs: config.push.timeoutMs,
    });
    this.owned.push(http);
    this.senders.set('unifiedpush', new PushUnifiedPushSender(http));

    const vapid = vapidKeys(config);
    this.vapidPublicKey = vapid?.publicKey ?? null;
    if (vapid) this.senders.set('webpush', new PushWebPushSender(vapid, http));
    else this.logger.warn('VAPID keys are not set: Web Push goes to the log driver');

    if (config.push.fcmServiceAccountFile) {
      const account = JSON.parse(readFileSync(config.push.fcmServiceAccountFile, 'utf8')) as {
        project_id?: string;
      };
      const fcm = new PushFcmSender({
        credential: cert(config.push.fcmServiceAccountFile),
        projectId: account.project_id,
      });
      this.owned.push(fcm);
      this.senders.set('fcm', fcm);
    }
    const apnsSettings = config.push.apns;
    if (apnsSettings) {
      const apns = new PushApnsSender({
        bundleId: apnsSettings.bundleId,
        provider: {
          token: {
            key: apnsSettings.keyFile,
            keyId: apnsSettings.keyId,
            teamId: apnsSettings.teamId,
          },
          production: apnsSettings.production,
        },
      });
      this.owned.push(apns);
      this.senders.set('apns', apns);
      this.senders.set('apns-voip', apns);
    }
    for (const provider of ['fcm', 'apns', 'apns-voip', 'webpush'] as const)
      if (!this.senders.has(provider)) this.senders.set(provider, log);
  }

  for(provider: PushProvider): PushSender {
    return this.senders.get(provider)!;
  }

  /** Puts another sender in charge of providers (a stand-in's client in tests). */
  use(providers: readonly PushProvider[], sender: PushSender): void {
    for (const provider of providers) this.senders.set(provider, sender);
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all(this.owned.map(async (o) => o.close()));
  }
}

/**
 * VAPID keys from settings; on the embedded default, generated once into DATA_DIR (a
 * subscription is bound to the key, so it must survive restarts). Several instances must
 * share keys from settings, so a scaled deployment without them has no Web Push.
 */
function vapidKeys(config: AppConfig): VapidKeys | null {
  const subject = config.push.vapidSubject;
  if (config.push.vapid) return { ...config.push.vapid, subject };
  if (config.redis.url) return null;
  const file = join(config.dataDir, 'vapid-keys.json');
  if (!existsSync(file)) {
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(file, JSON.stringify(webpush.generateVAPIDKeys()), { mode: 0o600 });
  }
  const keys = JSON.parse(readFileSync(file, 'utf8')) as { publicKey: string; privateKey: string };
  return { publicKey: keys.publicKey, privateKey: keys.privateKey, subject };
}
