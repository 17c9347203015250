import { Transform } from 'class-transformer';

const lower = (v: unknown): unknown => (typeof v === 'string' ? v.toLowerCase() : v);

/**
 * UUIDs are case-insensitive on the wire and stored lower-case: an upper-case id must name
 * the same row (and the same idempotency key, rate-limit bucket or direct conversation).
 * Put it on every id field of a DTO, beside its UUID check; it works on arrays of ids too.
 */
export function LowercaseId(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) =>
    Array.isArray(value) ? value.map(lower) : lower(value),
  );
}
