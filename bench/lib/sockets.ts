import { merge, summarize, type LatencySummary } from './hist';
import type { ClientSpec, ConnectResult } from './protocol';
import type { Generator } from './servers';

export interface ConnectSummary {
  requested: number;
  connected: number;
  failed: number;
  errors: string[];
  seconds: number;
  /** Handshake time (connect to `connect` event), ms. */
  handshake: LatencySummary;
}

/** Opens the given sockets, each in its assigned generator, all generators at once. */
export async function connectClients(
  gens: Generator[],
  url: string,
  assignments: Array<{ gen: number; client: ClientSpec }>,
  concurrency = 64,
): Promise<ConnectSummary> {
  const started = Date.now();
  const byGen = new Map<number, ClientSpec[]>();
  for (const a of assignments) {
    const list = byGen.get(a.gen) ?? [];
    list.push(a.client);
    byGen.set(a.gen, list);
  }
  const results = await Promise.all(
    [...byGen].map(([gen, clients]) =>
      gens[gen].request<ConnectResult>(
        { cmd: 'connect', url, clients, concurrency, timeoutMs: 30_000 },
        60_000 + clients.length * 100,
      ),
    ),
  );
  const histogram = merge(results.map((r) => r.histogram));
  const summary: ConnectSummary = {
    requested: assignments.length,
    connected: results.reduce((s, r) => s + r.connected, 0),
    failed: results.reduce((s, r) => s + r.failed, 0),
    errors: results.flatMap((r) => r.errors).slice(0, 5),
    seconds: (Date.now() - started) / 1000,
    handshake: summarize(histogram),
  };
  histogram.destroy();
  return summary;
}

/** Closes every socket in the given generators. */
export async function closeAll(gens: Generator[]): Promise<void> {
  await Promise.all(gens.map((g) => g.request({ cmd: 'close' }, 60_000)));
}
