import { Injectable, PipeTransform } from '@nestjs/common';
import { AppError } from '../errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/** Path ids must be UUIDs; anything else is VALIDATION_FAILED rather than a database error. */
@Injectable()
export class UuidParamPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!isUuid(value))
      throw AppError.validation(`"${String(value).slice(0, 64)}" is not a valid id`);
    return value.toLowerCase();
  }
}
