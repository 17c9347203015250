/** Delivers sign-in codes by SMS. Drivers: `log` (default) and `webhook` (an SMS gateway's HTTP API). */
export abstract class SmsSender {
  abstract send(phone: string, text: string): Promise<void>;
}
