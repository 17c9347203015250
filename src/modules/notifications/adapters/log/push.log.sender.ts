import { Logger } from '@nestjs/common';
import type { PushMessage, PushOutcome, PushProvider } from '../../domain/push';
import { PushSender } from '../../ports/push.sender';

/** The driver of providers without credentials: logs what would have been pushed. */
export class PushLogSender extends PushSender {
  readonly name = 'log';
  private readonly logger = new Logger('Push');

  async send(provider: PushProvider, _token: string, message: PushMessage): Promise<PushOutcome> {
    this.logger.log(
      { provider, payload: message.payload, urgent: message.urgent },
      'push (log driver)',
    );
    return 'sent';
  }
}
