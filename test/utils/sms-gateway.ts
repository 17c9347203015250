import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A local stand-in for an SMS gateway's HTTP API, as the `webhook` SMS driver calls it. */
export interface SmsGateway {
  /** Settings that point an app's webhook driver at this stand-in (and turn off the test code). */
  env: Record<string, string>;
  inbox: Array<{ to: string; text: string }>;
  /** The code in the latest message to `phone`; throws if none arrived. */
  codeSentTo(phone: string): string;
  close(): Promise<void>;
}

export async function startSmsGateway(): Promise<SmsGateway> {
  const inbox: Array<{ to: string; text: string }> = [];
  const server: Server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      inbox.push(JSON.parse(data) as { to: string; text: string });
      res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    env: {
      AUTH_TEST_OTP: '',
      SMS_DRIVER: 'webhook',
      SMS_WEBHOOK_URL: `http://127.0.0.1:${port}/sms`,
    },
    inbox,
    codeSentTo: (phone) => {
      const msg = [...inbox].reverse().find((m) => m.to === phone);
      const code = msg?.text.match(/\b(\d{6})\b/)?.[1];
      if (!code) throw new Error(`no SMS for ${phone}`);
      return code;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
