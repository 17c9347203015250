import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';

/** Express's `trust proxy` presets, beside addresses and CIDR ranges. */
const PRESETS = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** Whether every entry of a TRUST_PROXY list is a preset, an address or a range. */
export function isValidTrustList(entries: readonly string[]): boolean {
  try {
    proxyaddr.compile(entries.filter((e) => !PRESETS.has(e)));
    return true;
  } catch {
    return false;
  }
}

/**
 * The client's address: X-Forwarded-For is followed only through proxies in the trusted
 * list (TRUST_PROXY), so a client that reaches the server directly cannot claim another
 * address by sending the header. The same rule as Express's `trust proxy` for REST.
 */
export class ClientAddress {
  private readonly trust: (addr: string, i: number) => boolean;

  constructor(trusted: readonly string[]) {
    this.trust = proxyaddr.compile([...trusted]);
  }

  of(req: IncomingMessage): string {
    return proxyaddr(req, this.trust);
  }
}
