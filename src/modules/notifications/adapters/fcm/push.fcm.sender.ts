import { deleteApp, initializeApp, type App, type AppOptions } from 'firebase-admin/app';
import { getMessaging, type Message, type Messaging } from 'firebase-admin/messaging';
import { randomUUID } from 'node:crypto';
import type { PushMessage, PushOutcome, PushProvider } from '../../domain/push';
import { PushSender } from '../../ports/push.sender';

/** What FCM answers for a token that no longer exists. */
const GONE_CODES = new Set([
  'messaging/registration-token-not-registered',
  'messaging/invalid-registration-token',
]);

/**
 * Firebase Cloud Messaging through firebase-admin. Pushes are data messages (the app
 * draws its own notification from the counts), high priority for calls, collapsed per
 * conversation for messages.
 */
export class PushFcmSender extends PushSender {
  readonly name = 'fcm';
  private readonly app: App;
  private readonly messaging: Messaging;

  /** `appOptions.httpAgent` (with the legacy transport) lets tests reach a local stand-in. */
  constructor(appOptions: AppOptions, options: { legacyHttpTransport?: boolean } = {}) {
    super();
    // A named app of our own: never the process-wide default one.
    this.app = initializeApp(appOptions, `parley-push-${randomUUID()}`);
    this.messaging = getMessaging(this.app);
    if (options.legacyHttpTransport) this.messaging.enableLegacyHttpTransport();
  }

  async send(_provider: PushProvider, token: string, message: PushMessage): Promise<PushOutcome> {
    const data: Record<string, string> = {};
    for (const [key, value] of Object.entries(message.payload)) data[key] = String(value);
    const fcm: Message = {
      token,
      data,
      android: {
        priority: message.urgent ? 'high' : 'normal',
        ttl: message.urgent ? 60_000 : 86_400_000,
        ...(message.collapseKey ? { collapseKey: message.collapseKey } : {}),
      },
    };
    try {
      await this.messaging.send(fcm);
      return 'sent';
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && GONE_CODES.has(code)) return 'gone';
      throw error;
    }
  }

  close(): Promise<void> {
    return deleteApp(this.app);
  }
}
