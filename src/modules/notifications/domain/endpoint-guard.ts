import { BlockList, isIP, type LookupFunction } from 'node:net';
import { lookup as dnsLookup } from 'node:dns';
import { promisify } from 'node:util';

/**
 * Where a client-chosen push endpoint (Web Push, UnifiedPush) must never lead: loopback,
 * private, shared, link-local, multicast and reserved ranges, IPv4 and IPv6 (and IPv4
 * mapped into IPv6). Otherwise a client could make the server POST into its own network.
 */
const refused = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  refused.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
] as const) {
  refused.addSubnet(net, prefix, 'ipv6');
}

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return refused.check(address, 'ipv4');
  if (family !== 6) return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return refused.check(mapped[1], 'ipv4');
  return refused.check(address, 'ipv6');
}

export class RefusedEndpointError extends Error {}

/** Scheme and literal-address rules of an endpoint URL; throws RefusedEndpointError. */
export function checkEndpointUrl(raw: string, allowPrivate: boolean): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new RefusedEndpointError('endpoint is not a URL');
  }
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:'))
    throw new RefusedEndpointError('endpoint must be an https:// URL');
  if (url.username || url.password)
    throw new RefusedEndpointError('endpoint must not carry credentials');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!allowPrivate && isIP(host) && isPrivateAddress(host))
    throw new RefusedEndpointError('endpoint is a private address');
  return url;
}

const lookupAll = promisify(dnsLookup);

/** Registration-time check: the URL, and every address its host resolves to now. */
export async function assertEndpointAllowed(raw: string, allowPrivate: boolean): Promise<URL> {
  const url = checkEndpointUrl(raw, allowPrivate);
  if (allowPrivate) return url;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) return url;
  let addresses: Array<{ address: string }>;
  try {
    addresses = await lookupAll(host, { all: true });
  } catch {
    throw new RefusedEndpointError('endpoint host does not resolve');
  }
  if (!addresses.length || addresses.some((a) => isPrivateAddress(a.address)))
    throw new RefusedEndpointError('endpoint resolves to a private address');
  return url;
}

/**
 * Send-time check, on the address the connection actually uses: an HTTP agent with this
 * lookup cannot be steered to a private address by a DNS answer that changed since
 * registration (DNS rebinding).
 */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, '', 0);
    const list = addresses as unknown as Array<{ address: string; family: number }>;
    const bad = list.find((a) => isPrivateAddress(a.address));
    if (bad || !list.length)
      return callback(new RefusedEndpointError(`refused address for ${hostname}`), '', 0);
    if (options.all) return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
    callback(null, list[0].address, list[0].family);
  });
};
