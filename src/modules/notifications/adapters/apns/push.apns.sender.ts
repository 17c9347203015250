import apn from '@parse/node-apn';
import type { PushMessage, PushOutcome, PushProvider } from '../../domain/push';
import { PushSender } from '../../ports/push.sender';

/** What APNs answers for a token that no longer exists. */
const GONE_REASONS = new Set(['BadDeviceToken', 'Unregistered', 'DeviceTokenNotForTopic']);

export interface ApnsSenderOptions {
  provider: apn.ProviderOptions;
  bundleId: string;
}

/**
 * APNs over HTTP/2 through @parse/node-apn, token-based auth. Message pushes are
 * mutable-content alerts with a generic text the app replaces (no content leaves the
 * server), collapsed per conversation; calls go to the VoIP token (`<bundle>.voip`).
 */
export class PushApnsSender extends PushSender {
  readonly name = 'apns';
  private readonly provider: apn.Provider;

  constructor(private readonly options: ApnsSenderOptions) {
    super();
    this.provider = new apn.Provider(options.provider);
  }

  async send(provider: PushProvider, token: string, message: PushMessage): Promise<PushOutcome> {
    const note = new apn.Notification();
    const voip = provider === 'apns-voip';
    note.topic = voip ? `${this.options.bundleId}.voip` : this.options.bundleId;
    note.pushType = voip ? 'voip' : 'alert';
    note.priority = message.urgent || voip ? 10 : 5;
    note.expiry = Math.floor(Date.now() / 1000) + (message.urgent ? 60 : 86_400);
    note.payload = { ...message.payload };
    if (!voip) {
      // A localization key, not text: the app's notification extension writes the words.
      note.rawPayload = {
        ...message.payload,
        aps: {
          alert: { 'loc-key': message.payload.type === 'call' ? 'CALL' : 'MESSAGE' },
          'mutable-content': 1,
          ...(message.payload.type === 'message' ? { badge: message.payload.badge } : {}),
        },
      };
    }
    if (message.collapseKey) note.collapseId = message.collapseKey;
    const result = await this.provider.send(note, token);
    if (result.sent.length) return 'sent';
    const failure = result.failed[0];
    const reason = failure?.response?.reason;
    if (failure?.status === 410 || (reason && GONE_REASONS.has(reason))) return 'gone';
    throw failure?.error ?? new Error(`APNs refused the push: ${failure?.status} ${reason ?? ''}`);
  }

  close(): Promise<void> {
    return this.provider.shutdown();
  }
}
