import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config';
import { dataSourceOptions } from './data-source-options';
import { Db } from './db';
import { EmbeddedPostgres } from './embedded-postgres';

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig, EmbeddedPostgres],
      useFactory: async (config: AppConfig, embedded: EmbeddedPostgres) => {
        const url = config.database.url ?? (await embedded.start());
        // The embedded server multiplexes connections onto one PGlite session.
        const poolSize = config.database.url
          ? config.database.poolSize
          : config.database.embeddedMaxConnections;
        return dataSourceOptions(url, poolSize, config.database.runMigrations);
      },
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
