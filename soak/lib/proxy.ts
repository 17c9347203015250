import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A round-robin TCP proxy, the simplest load balancer: each new client connection goes to
 * the next instance; when that instance refuses (it is down), the next one is tried. A
 * connection stays on its instance until either side closes it, so a killed instance
 * drops exactly its own clients, who reconnect through the proxy and land elsewhere.
 */
export class RoundRobinProxy {
  private next = 0;
  private readonly open = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly upstreams: () => number[],
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static start(port: number, upstreams: () => number[]): Promise<RoundRobinProxy> {
    const holder: { proxy?: RoundRobinProxy } = {};
    const server = createServer((client) => holder.proxy?.accept(client));
    const proxy = new RoundRobinProxy(server, port, upstreams);
    holder.proxy = proxy;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve(proxy));
    });
  }

  private accept(client: Socket): void {
    this.open.add(client);
    client.once('close', () => this.open.delete(client));
    client.on('error', () => client.destroy());
    client.pause();
    const ports = this.upstreams();
    this.connect(client, ports, 0);
  }

  private connect(client: Socket, ports: number[], tried: number): void {
    if (client.destroyed) return;
    if (tried >= ports.length) {
      client.destroy();
      return;
    }
    const port = ports[this.next++ % ports.length];
    const upstream = createConnection({ host: '127.0.0.1', port });
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      this.open.add(upstream);
      upstream.once('close', () => this.open.delete(upstream));
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
      client.once('close', () => upstream.destroy());
      upstream.once('close', () => client.destroy());
    });
    upstream.on('error', () => {
      if (connected) upstream.destroy();
      else this.connect(client, ports, tried + 1);
    });
  }

  close(): Promise<void> {
    for (const socket of this.open) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
