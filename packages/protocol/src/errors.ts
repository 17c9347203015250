/** Stable machine codes of every REST error and Socket.IO error ack (docs/protocol.md). */
export const ERROR_CODES = [
  'VALIDATION_FAILED',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_A_MEMBER',
  'ADMIN_ONLY',
  'NOT_FOUND',
  'CONFLICT',
  'GROUP_FULL',
  'PAYLOAD_TOO_LARGE',
  'RATE_LIMITED',
  'WINDOW_CLOSED',
  'DEVICES_CHANGED',
  'BANNED',
  'PIN_REQUIRED',
  'SERVICE_UNAVAILABLE',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** A per-field detail: a sentence, or a structured entry where a client acts on it. */
export type ErrorDetail = string | Record<string, unknown>;

/**
 * DEVICES_CHANGED details: how an envelope set differs from one member's current devices
 * (`userId` null for envelope devices that belong to no member).
 */
export interface DeviceMismatch {
  userId: string | null;
  missingDevices: string[];
  extraDevices: string[];
}

/** The `error` object of a failed ack, and the body of a failed REST call less `statusCode`. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: ErrorDetail[];
  /** RATE_LIMITED and SERVICE_UNAVAILABLE: how long to wait before trying again. */
  retryAfterMs?: number;
  /** PIN_REQUIRED only: the token that POST /auth/pin takes with the PIN. */
  pinToken?: string;
}

export interface RestErrorBody extends ErrorBody {
  statusCode: number;
}

export const isErrorCode = (value: unknown): value is ErrorCode =>
  typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);

/** Checks that a value is an error body the server could have sent (a cheap runtime guard). */
export function isErrorBody(value: unknown): value is ErrorBody {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return isErrorCode(v.code) && typeof v.message === 'string';
}
