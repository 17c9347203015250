import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { validateSync } from 'class-validator';
import { AppError } from '../errors';

const validatorOptions = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  stopAtFirstError: true,
} as const;

function flatten(errors: ValidationError[], prefix = ''): string[] {
  const out: string[] = [];
  for (const e of errors) {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    if (e.constraints) {
      for (const text of Object.values(e.constraints)) {
        out.push(
          text.startsWith(e.property)
            ? `${path}${text.slice(e.property.length)}`
            : `${path}: ${text}`,
        );
      }
    }
    if (e.children?.length) out.push(...flatten(e.children, path));
  }
  return out;
}

export function validationError(errors: ValidationError[]): AppError {
  const details = flatten(errors);
  return AppError.validation(details[0] ?? 'Invalid input', details);
}

/** Validates an untrusted payload against a DTO class; unknown fields and wrong types are refused. */
export function validateDto<T extends object>(cls: ClassConstructor<T>, payload: unknown): T {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw AppError.validation('Payload must be a JSON object');
  }
  const instance = plainToInstance(cls, payload, { enableImplicitConversion: false });
  const errors = validateSync(instance, validatorOptions);
  if (errors.length) throw validationError(errors);
  return instance;
}

export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    ...validatorOptions,
    transform: true,
    exceptionFactory: (errors) => validationError(errors),
  });
}
