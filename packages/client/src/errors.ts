import { isErrorBody, type ErrorBody, type ErrorCode } from '@parley/protocol';

/** A refusal from the server (REST or ack), or a transport failure as `code: INTERNAL`. */
export class ParleyError extends Error {
  readonly code: ErrorCode;
  /** HTTP status for REST errors; undefined for acks. */
  readonly status?: number;
  readonly retryAfterMs?: number;
  readonly details?: string[];

  constructor(body: ErrorBody, status?: number) {
    super(body.message);
    this.name = 'ParleyError';
    this.code = body.code;
    this.status = status;
    this.retryAfterMs = body.retryAfterMs;
    this.details = body.details;
  }

  /** Whatever a failed request answered, as a ParleyError. */
  static from(value: unknown, status?: number): ParleyError {
    if (isErrorBody(value)) return new ParleyError(value, status);
    const message =
      typeof value === 'string' && value ? value : `request failed (${status ?? '?'})`;
    return new ParleyError({ code: 'INTERNAL', message }, status);
  }
}
