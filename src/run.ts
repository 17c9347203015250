import { Logger } from '@nestjs/common';
import { createApp, drainAndClose } from './bootstrap';
import {
  ConfigError,
  loadConfigFromProcess,
  type EnvironmentSource,
} from './common/config/app-config';

/** Starts a Parley process (any role) and drains it on SIGTERM/SIGINT. */
export async function run(overrides: EnvironmentSource = {}): Promise<void> {
  let config;
  try {
    config = loadConfigFromProcess(overrides);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
  const app = await createApp(config);
  // Workers listen too, for /health and /metrics; load balancers route clients to api instances only.
  await app.listen(config.http.port, config.http.host);
  const logger = new Logger('Parley');
  logger.log(
    `Parley listening on ${config.http.host}:${config.http.port} (${config.embeddedDatabase ? 'embedded PostgreSQL' : 'PostgreSQL'}${config.redis.url ? ' + Redis' : ''}, role ${config.role})`,
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal} received: draining`);
    const force = setTimeout(() => process.exit(1), config.shutdownGraceMs + 5000);
    force.unref();
    drainAndClose(app, config.shutdownGraceMs).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
