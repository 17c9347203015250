import { Logger } from '@nestjs/common';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import type { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/**
 * The embedded default: PGlite (PostgreSQL compiled to WASM) in this process, served on a
 * loopback port through pglite-socket so that TypeORM and pg talk to it exactly as they
 * talk to a real PostgreSQL: same driver, same SQL, same migrations.
 */
export class EmbeddedPostgres {
  private readonly logger = new Logger(EmbeddedPostgres.name);
  private db?: PGlite;
  private server?: PGLiteSocketServer;
  private connectionUrl?: string;

  constructor(
    private readonly dataDir: string | undefined,
    private readonly maxConnections: number,
  ) {}

  get url(): string {
    if (!this.connectionUrl) throw new Error('Embedded PostgreSQL is not started');
    return this.connectionUrl;
  }

  async start(): Promise<string> {
    if (this.connectionUrl) return this.connectionUrl;
    const { PGlite } = await import('@electric-sql/pglite');
    const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
    let dataPath: string | undefined;
    if (this.dataDir) {
      dataPath = join(this.dataDir, 'pglite');
      mkdirSync(dataPath, { recursive: true });
    }
    this.db = await PGlite.create(dataPath ? { dataDir: dataPath } : {});
    this.server = new PGLiteSocketServer({
      db: this.db,
      host: '127.0.0.1',
      port: 0,
      maxConnections: this.maxConnections,
    });
    await this.server.start();
    const conn = this.server.getServerConn();
    this.connectionUrl = `postgres://postgres@${conn}/postgres`;
    this.logger.log(
      `Embedded PostgreSQL (PGlite) ready${dataPath ? ` in ${dataPath}` : ' in memory'}`,
    );
    return this.connectionUrl;
  }

  async stop(): Promise<void> {
    await this.server?.stop().catch(() => undefined);
    await this.db?.close().catch(() => undefined);
    this.server = undefined;
    this.db = undefined;
    this.connectionUrl = undefined;
  }
}
