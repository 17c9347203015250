import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { Response } from 'express';
import type { Counter } from 'prom-client';
import { toAppError } from './to-app-error';

/** Every REST error leaves as `{ statusCode, code, message, details?, retryAfterMs? }`. */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpError');

  /** `errors` counts what is answered, by code (parley_errors_total). */
  constructor(private readonly errors?: Counter) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const { error, unexpected } = toAppError(exception);
    if (unexpected) this.logger.error(exception);
    this.errors?.inc({ code: error.code, transport: 'http' });
    if (response.headersSent) return;
    if (error.extra.retryAfterMs !== undefined) {
      response.setHeader('Retry-After', Math.ceil(error.extra.retryAfterMs / 1000).toString());
    }
    response.status(error.status).json({ statusCode: error.status, ...error.toBody() });
  }
}
