import { Injectable, Logger } from '@nestjs/common';
import { SmsSender } from '../../ports/sms.sender';

/** Development driver: writes the SMS to the log instead of sending it. */
@Injectable()
export class SmsLogSender extends SmsSender {
  private readonly logger = new Logger('SMS');

  async send(phone: string, text: string): Promise<void> {
    this.logger.log({ phone, text }, 'SMS (log driver, not sent)');
  }
}
