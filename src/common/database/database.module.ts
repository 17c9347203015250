import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config';
import { dataSourceOptions } from './data-source-options';
import { createDataSource } from './run-migrations';
import { Db } from './db';
import { EmbeddedPostgres } from './embedded-postgres';

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig, EmbeddedPostgres],
      useFactory: async (config: AppConfig, embedded: EmbeddedPostgres) => {
        const url = config.database.url ?? (await embedded.start());
        // PGlite runs one statement at a time anyway, and pglite-socket's multiplexer can
        // interleave the extended-protocol messages (Parse/Bind/Execute) of concurrent
        // connections, mixing up their parameters: the app uses a single connection.
        const poolSize = config.database.url ? config.database.poolSize : 1;
        return dataSourceOptions(url, poolSize, config.database.runMigrations);
      },
      dataSourceFactory: createDataSource,
    }),
  ],
  providers: [Db],
  exports: [Db],
})
export class DatabaseModule {}

/** Owns the embedded server so it outlives TypeORM's pool during shutdown. */
@Global()
@Module({
  providers: [
    {
      provide: EmbeddedPostgres,
      inject: [AppConfig],
      useFactory: (config: AppConfig) =>
        new EmbeddedPostgres(config.dataDir, config.database.embeddedMaxConnections),
    },
  ],
  exports: [EmbeddedPostgres],
})
export class EmbeddedPostgresModule implements OnApplicationShutdown {
  constructor(@Inject(EmbeddedPostgres) private readonly embedded: EmbeddedPostgres) {}

  async onApplicationShutdown(): Promise<void> {
    await this.embedded.stop();
  }
}
