import { Injectable, type PipeTransform } from '@nestjs/common';
import { AppError } from '../errors';

/** Deeper than any payload Parley accepts; past it the walk stops rather than recursing on. */
const MAX_DEPTH = 16;

/**
 * The path of the first string (value or object key) holding U+0000, or undefined.
 * PostgreSQL's text cannot store U+0000: such a value must be refused at the edge, or
 * the database refuses it later as a server error (and fails the batch it rides in).
 */
export function findNulCharacter(value: unknown, path = '', depth = 0): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path || 'value' : undefined;
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      const found = findNulCharacter(value[i], `${path}[${i}]`, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    const at = path ? `${path}.${key}` : key;
    if (key.includes('\u0000')) return path || 'key';
    const found = findNulCharacter(item, at, depth + 1);
    if (found) return found;
  }
  return undefined;
}

export function assertNoNulCharacter(value: unknown): void {
  const at = findNulCharacter(value);
  if (at !== undefined) {
    throw AppError.validation(
      `${at.split('\u0000').join('').slice(0, 80)} must not contain U+0000`,
    );
  }
}

/** Refuses REST bodies, queries and path parameters holding U+0000, before validation. */
@Injectable()
export class NulCharacterPipe implements PipeTransform<unknown, unknown> {
  transform(value: unknown): unknown {
    assertNoNulCharacter(value);
    return value;
  }
}
