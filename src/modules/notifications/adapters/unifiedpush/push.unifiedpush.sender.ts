import type { PushMessage, PushOutcome, PushProvider } from '../../domain/push';
import { PushSender } from '../../ports/push.sender';
import { EndpointHttpClient, outcomeOfStatus } from '../endpoint-http';

/** UnifiedPush: an HTTP POST of the payload JSON to the endpoint the distributor gave the app. */
export class PushUnifiedPushSender extends PushSender {
  readonly name = 'unifiedpush';

  constructor(private readonly http: EndpointHttpClient) {
    super();
  }

  async send(_provider: PushProvider, token: string, message: PushMessage): Promise<PushOutcome> {
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      ttl: message.urgent ? 60 : 86_400,
      urgency: message.urgent ? 'high' : 'normal',
    };
    if (message.collapseKey) headers.topic = message.collapseKey;
    const status = await this.http.post(
      token,
      headers,
      Buffer.from(JSON.stringify(message.payload)),
    );
    return outcomeOfStatus(status, 'UnifiedPush');
  }
}
