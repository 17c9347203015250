import type { Options } from './args';
import type { CpuMeter } from './cpu';
import type { Cleanup } from './procs';
import type { BenchUser } from './users';
import type { Generator, ProductServer, RelayServer, ServerUnderTest } from './servers';

export interface BenchContext {
  options: Options;
  cleanup: Cleanup;
  product: ProductServer;
  baseline?: RelayServer;
  runId: string;
  /** Load generators, started on demand (at least options.generators of them). */
  generators(count: number): Promise<Generator[]>;
  log(message: string): void;
  /**
   * The first `count` users of a pool of signed-in Parley users (one device each), signing
   * in more when needed; scenarios reuse them (their sockets are closed in between).
   */
  users(count: number): Promise<BenchUser[]>;
  /**
   * With --wait-quiet: waits (bounded) until other processes leave the machine idle, so
   * the next measurement is not shared with someone else's work. Returns the busy
   * percentage seen last (null when not measured).
   */
  waitQuiet(label: string): Promise<number | null>;
  /** A CPU meter over the server, PostgreSQL, Redis and the generators. */
  cpuMeter(server: ServerUnderTest): CpuMeter;
}

/** The systems a scenario runs against: Parley, then the relay when it is on. */
export function systems(ctx: BenchContext): ServerUnderTest[] {
  return ctx.baseline ? [ctx.product, ctx.baseline] : [ctx.product];
}
