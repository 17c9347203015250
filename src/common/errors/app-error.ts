import { ErrorCode, httpStatusOf } from './error-codes';

/** A per-field detail: a sentence, or a structured entry where a client acts on it. */
export type ErrorDetail = string | Record<string, unknown>;

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: ErrorDetail[];
  retryAfterMs?: number;
  /** PIN_REQUIRED only: the token that POST /auth/pin takes with the PIN. */
  pinToken?: string;
}

/** Bounds on what one error tells a client, whatever the input that caused it. */
const MAX_MESSAGE_CHARS = 300;
const MAX_DETAILS = 20;
const MAX_DETAIL_CHARS = 200;

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A failure the client is told about, with a stable code. Anything else is INTERNAL. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extra: { details?: ErrorDetail[]; retryAfterMs?: number; pinToken?: string } = {},
  ) {
    super(message);
    this.name = 'AppError';
  }

  get status(): number {
    return httpStatusOf[this.code];
  }

  toBody(): ErrorBody {
    const body: ErrorBody = { code: this.code, message: clip(this.message, MAX_MESSAGE_CHARS) };
    const details = this.extra.details;
    if (details?.length) {
      body.details = details
        .slice(0, MAX_DETAILS)
        .map((d) => (typeof d === 'string' ? clip(d, MAX_DETAIL_CHARS) : d));
      if (details.length > MAX_DETAILS)
        body.details.push(`… and ${details.length - MAX_DETAILS} more`);
    }
    if (this.extra.retryAfterMs !== undefined) body.retryAfterMs = this.extra.retryAfterMs;
    if (this.extra.pinToken !== undefined) body.pinToken = this.extra.pinToken;
    return body;
  }

  static validation(message: string, details?: string[]): AppError {
    return new AppError(ErrorCode.VALIDATION_FAILED, message, { details });
  }
  static unauthorized(message = 'Authentication required'): AppError {
    return new AppError(ErrorCode.UNAUTHORIZED, message);
  }
  static forbidden(message = 'Not allowed'): AppError {
    return new AppError(ErrorCode.FORBIDDEN, message);
  }
  static notFound(what: string): AppError {
    return new AppError(ErrorCode.NOT_FOUND, `${what} not found`);
  }
  static notAMember(): AppError {
    return new AppError(ErrorCode.NOT_A_MEMBER, 'You are not a member of this conversation');
  }
  static rateLimited(retryAfterMs: number, message = 'Too many requests'): AppError {
    return new AppError(ErrorCode.RATE_LIMITED, message, {
      retryAfterMs: Math.max(1, Math.ceil(retryAfterMs)),
    });
  }
  static banned(): AppError {
    return new AppError(ErrorCode.BANNED, 'This account is banned');
  }
  static tooLarge(message: string): AppError {
    return new AppError(ErrorCode.PAYLOAD_TOO_LARGE, message);
  }
}
