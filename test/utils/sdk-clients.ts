import { ParleyClient, type ParleyClientOptions } from '@parley/client';
import { uniquePhone } from './clients';
import { TEST_OTP, type TestApp } from './test-app';

/**
 * SDK clients signed in through the public API with the test OTP (one new device each);
 * `closeAll` disconnects every client it made.
 */
export function sdkClients(getApp: () => Pick<TestApp, 'url'>) {
  const made: ParleyClient[] = [];
  return {
    /** A client of a new (or the given) user's new device, not yet connected. */
    async signedIn(
      phone = uniquePhone(),
      options: Partial<ParleyClientOptions> = {},
    ): Promise<ParleyClient> {
      const client = new ParleyClient({ url: getApp().url, ...options });
      made.push(client);
      await client.requestCode(phone);
      await client.signIn(phone, TEST_OTP, { deviceName: 'sdk test', platform: 'desktop' });
      return client;
    },
    /** Signed in and connected. */
    async online(
      phone = uniquePhone(),
      options: Partial<ParleyClientOptions> = {},
    ): Promise<ParleyClient> {
      const client = await this.signedIn(phone, options);
      await client.connect();
      return client;
    },
    closeAll(): void {
      for (const client of made.splice(0)) client.disconnect();
    },
  };
}
