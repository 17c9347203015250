import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../../../common/config/app-config';
import { AppError, ErrorCode } from '../../../../common/errors';
import { SmsSender } from '../../ports/sms.sender';

/**
 * Posts `{ to, text }` as JSON to SMS_WEBHOOK_URL: the shape most SMS gateways (or a small
 * relay in front of one) accept. A non-2xx answer fails the OTP request.
 */
@Injectable()
export class SmsWebhookSender extends SmsSender {
  private readonly url: string;

  constructor(config: AppConfig) {
    super();
    if (!config.sms.webhookUrl)
      throw new Error('SMS_WEBHOOK_URL is required for the webhook driver');
    this.url = config.sms.webhookUrl;
  }

  async send(phone: string, text: string): Promise<void> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ to: phone, text }),
      signal: AbortSignal.timeout(10000),
    }).catch(() => null);
    if (!response?.ok) {
      throw new AppError(
        ErrorCode.SERVICE_UNAVAILABLE,
        'The SMS could not be sent; try again later',
      );
    }
  }
}
