import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoggerModule } from 'nestjs-pino';
import { AppConfig } from '../config/app-config';

/** Structured JSON logs (pino) with a request id on every HTTP log line. */
export const LoggingModule = LoggerModule.forRootAsync({
  inject: [AppConfig],
  useFactory: (config: AppConfig) => ({
    pinoHttp: {
      level: config.logLevel,
      genReqId: (req: IncomingMessage, res: ServerResponse) => {
        const given = req.headers['x-request-id'];
        const id =
          typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
        // Echoed so that clients and proxies can quote it when reporting a problem.
        res.setHeader('x-request-id', id);
        return id;
      },
      customProps: () => ({ service: 'parley' }),
      redact: ['req.headers.authorization', 'req.headers.cookie'],
      autoLogging: {
        ignore: (req: IncomingMessage) => !!req.url && /^\/(health|metrics)/.test(req.url),
      },
    },
  }),
});
