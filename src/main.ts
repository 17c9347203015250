import { Logger } from '@nestjs/common';
import { createApp, drainAndClose } from './bootstrap';
import { ConfigError, loadConfigFromProcess } from './common/config/app-config';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfigFromProcess();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
  const app = await createApp(config);
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

void main();
