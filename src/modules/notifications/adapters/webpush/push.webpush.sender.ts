import webpush from 'web-push';
import type {
  PushMessage,
  PushOutcome,
  PushProvider,
  WebPushSubscription,
} from '../../domain/push';
import { PushSender } from '../../ports/push.sender';
import { EndpointHttpClient, outcomeOfStatus } from '../endpoint-http';

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
  subject: string;
}

/**
 * Web Push (RFC 8030): the `web-push` package encrypts the payload to the subscription
 * (RFC 8291, aes128gcm) and signs VAPID; the request goes out through our own client so
 * that the endpoint's resolved address is checked at connect time.
 */
export class PushWebPushSender extends PushSender {
  readonly name = 'webpush';

  constructor(
    private readonly vapid: VapidKeys,
    private readonly http: EndpointHttpClient,
  ) {
    super();
  }

  async send(_provider: PushProvider, token: string, message: PushMessage): Promise<PushOutcome> {
    const subscription = JSON.parse(token) as WebPushSubscription;
    const request = webpush.generateRequestDetails(subscription, JSON.stringify(message.payload), {
      vapidDetails: {
        subject: this.vapid.subject,
        publicKey: this.vapid.publicKey,
        privateKey: this.vapid.privateKey,
      },
      TTL: message.urgent ? 60 : 86_400,
      urgency: message.urgent ? 'high' : 'normal',
      topic: message.collapseKey,
      contentEncoding: 'aes128gcm',
    });
    const status = await this.http.post(
      request.endpoint,
      request.headers,
      request.body ?? Buffer.alloc(0),
    );
    return outcomeOfStatus(status, 'Web Push');
  }
}
