import { HttpException } from '@nestjs/common';
import { AppError } from './app-error';
import { ErrorCode } from './error-codes';

const codeByStatus: Record<number, ErrorCode> = {
  400: ErrorCode.VALIDATION_FAILED,
  401: ErrorCode.UNAUTHORIZED,
  403: ErrorCode.FORBIDDEN,
  404: ErrorCode.NOT_FOUND,
  405: ErrorCode.NOT_FOUND,
  409: ErrorCode.CONFLICT,
  413: ErrorCode.PAYLOAD_TOO_LARGE,
  415: ErrorCode.VALIDATION_FAILED,
  429: ErrorCode.RATE_LIMITED,
  503: ErrorCode.SERVICE_UNAVAILABLE,
};

interface BodyParserError {
  type?: string;
  status?: number;
  statusCode?: number;
  expose?: boolean;
}

/**
 * Client errors raised by Express's body parser: bad JSON, too large, bad charset, and a
 * body that does not decode as its Content-Encoding says (a zlib error with no `type`).
 */
function isBodyParserClientError(error: unknown): error is BodyParserError & Error {
  if (!(error instanceof Error)) return false;
  const e = error as BodyParserError;
  const status = e.status ?? e.statusCode ?? 0;
  return e.expose === true && status >= 400 && status < 500;
}

function bodyParserMessage(error: BodyParserError & Error): string {
  if (error.type === 'entity.parse.failed') return 'Malformed JSON body';
  if (error.type === undefined) return 'The request body does not match its Content-Encoding';
  return error.message;
}

/**
 * Connection-level codes (node's socket errors, PostgreSQL's class 08 and 57P0x) and a
 * server out of resources (a full disk, memory, connection slots: PostgreSQL's class 53).
 */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOSPC',
  '53000', // insufficient_resources
  '53100', // disk_full
  '53200', // out_of_memory
  '53300', // too_many_connections
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);

/**
 * A backend that is down or restarting (PostgreSQL, Redis): the request may succeed if
 * retried (resends are idempotent), so clients get a retryable SERVICE_UNAVAILABLE rather
 * than INTERNAL.
 */
function isBackendUnavailable(error: unknown): boolean {
  // Read by shape, not `instanceof Error`: node's own socket errors may come from another
  // realm (a VM context such as a test runner's), where that check fails.
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
  return (
    typeof message === 'string' &&
    /Connection terminated|timeout exceeded when trying to connect|Connection is closed|the database system is (starting up|shutting down)/i.test(
      message,
    )
  );
}

/** Maps anything thrown anywhere to the one client-facing error shape. */
export function toAppError(error: unknown): { error: AppError; unexpected: boolean } {
  if (error instanceof AppError) return { error, unexpected: false };
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const code =
      codeByStatus[status] ?? (status >= 500 ? ErrorCode.INTERNAL : ErrorCode.VALIDATION_FAILED);
    const response = error.getResponse();
    let message = error.message;
    let details: string[] | undefined;
    if (typeof response === 'object' && response !== null && 'message' in response) {
      const m = response.message;
      if (Array.isArray(m)) {
        details = m.map(String);
        message = details[0] ?? message;
      } else if (typeof m === 'string') {
        message = m;
      }
    }
    if (status >= 500 && status !== 503) {
      // Server-side failures never show their internals to clients.
      return { error: new AppError(ErrorCode.INTERNAL, 'Internal server error'), unexpected: true };
    }
    const retryAfterMs = status === 429 ? 1000 : undefined;
    return { error: new AppError(code, message, { details, retryAfterMs }), unexpected: false };
  }
  if (isBodyParserClientError(error)) {
    const status = error.status ?? error.statusCode ?? 400;
    if (status === 413)
      return { error: AppError.tooLarge('Request body is too large'), unexpected: false };
    return {
      error: AppError.validation(bodyParserMessage(error)),
      unexpected: false,
    };
  }
  if (isBackendUnavailable(error)) {
    return {
      error: new AppError(
        ErrorCode.SERVICE_UNAVAILABLE,
        'A backend is unavailable; retry shortly (resending with the same ids is safe)',
        { retryAfterMs: 1000 },
      ),
      unexpected: false,
    };
  }
  return { error: new AppError(ErrorCode.INTERNAL, 'Internal server error'), unexpected: true };
}
