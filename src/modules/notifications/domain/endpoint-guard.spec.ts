import {
  checkEndpointUrl,
  isPrivateAddress,
  publicOnlyLookup,
  RefusedEndpointError,
} from './endpoint-guard';

describe('isPrivateAddress', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '::1',
    '::',
    'fd00::1',
    'fe80::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    'not-an-address',
  ])('refuses %s', (address) => expect(isPrivateAddress(address)).toBe(true));

  it.each(['8.8.8.8', '172.32.0.1', '1.1.1.1', '2001:4860:4860::8888', '::ffff:8.8.8.8'])(
    'allows %s',
    (address) => expect(isPrivateAddress(address)).toBe(false),
  );
});

describe('checkEndpointUrl', () => {
  it('wants https unless private endpoints are allowed', () => {
    expect(() => checkEndpointUrl('http://push.example.com/x', false)).toThrow(
      RefusedEndpointError,
    );
    expect(checkEndpointUrl('http://push.example.com/x', true).hostname).toBe('push.example.com');
    expect(checkEndpointUrl('https://push.example.com/x', false).hostname).toBe('push.example.com');
  });

  it('refuses literal private addresses, other schemes, credentials and garbage', () => {
    for (const bad of [
      'https://127.0.0.1/x',
      'https://[::1]/x',
      'https://10.0.0.8:8443/x',
      'https://[::ffff:192.168.0.1]/x',
      'ftp://push.example.com/x',
      'https://user:pw@push.example.com/x',
      'not a url',
    ]) {
      expect(() => checkEndpointUrl(bad, false)).toThrow(RefusedEndpointError);
    }
    expect(checkEndpointUrl('https://127.0.0.1/x', true).hostname).toBe('127.0.0.1');
  });
});

describe('publicOnlyLookup (the send-time check on the address actually connected to)', () => {
  const lookup = (host: string, all: boolean) =>
    new Promise<{ error: Error | null; address: unknown }>((resolve) =>
      publicOnlyLookup(host, { all }, (error, address) => resolve({ error, address })),
    );

  it('refuses a name that resolves to loopback, one address or all', async () => {
    for (const all of [false, true]) {
      const { error } = await lookup('localhost', all);
      expect(error).toBeInstanceOf(RefusedEndpointError);
    }
  });

  it('makes an HTTP agent refuse before it connects', async () => {
    const { Agent, get } = await import('node:http');
    const agent = new Agent({ lookup: publicOnlyLookup });
    const error = await new Promise<Error>((resolve) =>
      get({ host: 'localhost', port: 9, agent }, () => undefined).on('error', resolve),
    );
    // Refused before any connection was attempted (not ECONNREFUSED from port 9).
    expect(error).toBeInstanceOf(RefusedEndpointError);
    agent.destroy();
  });
});
