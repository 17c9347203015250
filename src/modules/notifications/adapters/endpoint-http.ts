import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { checkEndpointUrl, publicOnlyLookup } from '../domain/endpoint-guard';

export interface EndpointSenderOptions {
  allowPrivateEndpoints: boolean;
  timeoutMs: number;
}

/**
 * POSTs to endpoints that clients chose (Web Push, UnifiedPush). Unless private endpoints
 * are allowed, every connection resolves through `publicOnlyLookup`, so the address that
 * is checked is the one connected to, and literal addresses are checked before sending.
 */
export class EndpointHttpClient {
  private readonly http: HttpAgent;
  private readonly https: HttpsAgent;

  constructor(private readonly options: EndpointSenderOptions) {
    const lookup = options.allowPrivateEndpoints ? undefined : publicOnlyLookup;
    this.http = new HttpAgent({ keepAlive: true, lookup });
    this.https = new HttpsAgent({ keepAlive: true, lookup });
  }

  /** Resolves the response status; rejects on network errors and timeouts. */
  post(endpoint: string, headers: Record<string, string | number>, body: Buffer): Promise<number> {
    const url = checkEndpointUrl(endpoint, this.options.allowPrivateEndpoints);
    const secure = url.protocol === 'https:';
    const send = secure ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(
        url,
        {
          method: 'POST',
          headers: { ...headers, 'content-length': body.length },
          agent: secure ? this.https : this.http,
          timeout: this.options.timeoutMs,
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`push endpoint ${url.host} timed out`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.http.destroy();
    this.https.destroy();
  }
}

/** The outcome shared by Web Push and UnifiedPush endpoints. */
export function outcomeOfStatus(status: number, what: string): 'sent' | 'gone' {
  if (status >= 200 && status < 300) return 'sent';
  if (status === 404 || status === 410) return 'gone';
  throw new Error(`${what} endpoint answered ${status}`);
}
