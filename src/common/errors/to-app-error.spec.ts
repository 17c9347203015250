import {
  BadRequestException,
  ConflictException,
  ForbiddenException,
  HttpException,
  HttpStatus,
  InternalServerErrorException,
  MethodNotAllowedException,
  NotFoundException,
  PayloadTooLargeException,
  ServiceUnavailableException,
  UnauthorizedException,
  UnprocessableEntityException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import { AppError } from './app-error';
import { ErrorCode } from './error-codes';
import { toAppError } from './to-app-error';

/** An error shaped like the ones Express's body parser raises (http-errors). */
function bodyParserError(message: string, type: string, status: number): Error {
  return Object.assign(new Error(message), { type, status, statusCode: status, expose: true });
}

describe('toAppError', () => {
  describe('AppError', () => {
    it('passes an AppError through unchanged, as expected', () => {
      const original = AppError.rateLimited(1500);
      const { error, unexpected } = toAppError(original);
      expect(error).toBe(original);
      expect(unexpected).toBe(false);
      expect(error.toBody()).toEqual({
        code: 'RATE_LIMITED',
        message: 'Too many requests',
        retryAfterMs: 1500,
      });
    });

    it('keeps the details of a validation error', () => {
      const original = AppError.validation('phone: bad', ['phone: bad', 'code: missing']);
      const { error } = toAppError(original);
      expect(error.status).toBe(400);
      expect(error.toBody()).toEqual({
        code: 'VALIDATION_FAILED',
        message: 'phone: bad',
        details: ['phone: bad', 'code: missing'],
      });
    });
  });

  describe('HttpException', () => {
    it.each([
      [new BadRequestException('bad'), ErrorCode.VALIDATION_FAILED, 400],
      [new UnauthorizedException('who?'), ErrorCode.UNAUTHORIZED, 401],
      [new ForbiddenException('no'), ErrorCode.FORBIDDEN, 403],
      [new NotFoundException('Cannot GET /x'), ErrorCode.NOT_FOUND, 404],
      [new MethodNotAllowedException('nope'), ErrorCode.NOT_FOUND, 404],
      [new ConflictException('taken'), ErrorCode.CONFLICT, 409],
      [new PayloadTooLargeException('big'), ErrorCode.PAYLOAD_TOO_LARGE, 413],
      [new UnsupportedMediaTypeException('xml'), ErrorCode.VALIDATION_FAILED, 400],
      [new HttpException('slow down', HttpStatus.TOO_MANY_REQUESTS), ErrorCode.RATE_LIMITED, 429],
      [new UnprocessableEntityException('odd'), ErrorCode.VALIDATION_FAILED, 400],
      [new HttpException('teapot', HttpStatus.I_AM_A_TEAPOT), ErrorCode.VALIDATION_FAILED, 400],
    ])('maps %p to %s (%d), as an expected error', (exception, code, status) => {
      const { error, unexpected } = toAppError(exception);
      expect(error).toBeInstanceOf(AppError);
      expect(error.code).toBe(code);
      expect(error.status).toBe(status);
      expect(unexpected).toBe(false);
    });

    it('keeps the message of the exception', () => {
      expect(toAppError(new NotFoundException('Cannot GET /nope')).error.message).toBe(
        'Cannot GET /nope',
      );
      expect(toAppError(new HttpException('plain text', 409)).error.message).toBe('plain text');
      expect(toAppError(new HttpException({ message: 'from object' }, 403)).error.message).toBe(
        'from object',
      );
    });

    it('uses the default message when none is given', () => {
      const { error } = toAppError(new NotFoundException());
      expect(error.message).toBe('Not Found');
      expect(error.toBody()).toEqual({ code: 'NOT_FOUND', message: 'Not Found' });
    });

    it('turns a list of messages into details, the first one being the message', () => {
      const exception = new BadRequestException(['phone must be a string', 'code is required']);
      const { error } = toAppError(exception);
      expect(error.toBody()).toEqual({
        code: 'VALIDATION_FAILED',
        message: 'phone must be a string',
        details: ['phone must be a string', 'code is required'],
      });
    });

    it('keeps the exception message when the list of messages is empty', () => {
      const exception = new HttpException({ message: [] }, 400);
      const { error } = toAppError(exception);
      expect(error.message).toBe(exception.message);
      expect(error.toBody().details).toBeUndefined();
    });

    it('keeps the exception message when the response message is not a string', () => {
      const exception = new HttpException({ message: 42 }, 404);
      const { error } = toAppError(exception);
      expect(error.code).toBe('NOT_FOUND');
      expect(error.message).toBe(exception.message);
    });

    it.each([
      [new InternalServerErrorException('boom'), ErrorCode.INTERNAL, 500],
      [new HttpException('bad gateway', HttpStatus.BAD_GATEWAY), ErrorCode.INTERNAL, 500],
    ])(
      'maps a server-side %p to %s (%d), hides its message and flags it unexpected',
      (exception, code, status) => {
        const { error, unexpected } = toAppError(exception);
        expect(error.code).toBe(code);
        expect(error.status).toBe(status);
        expect(error.message).toBe('Internal server error');
        expect(unexpected).toBe(true);
      },
    );

    it('passes a deliberate 503 through as SERVICE_UNAVAILABLE, not as a failure', () => {
      const { error, unexpected } = toAppError(new ServiceUnavailableException('draining'));
      expect(error.code).toBe(ErrorCode.SERVICE_UNAVAILABLE);
      expect(error.status).toBe(503);
      expect(unexpected).toBe(false);
    });

    it('gives a 429 a retryAfterMs, as every RATE_LIMITED error has', () => {
      const { error } = toAppError(new HttpException('slow down', HttpStatus.TOO_MANY_REQUESTS));
      expect(error.code).toBe(ErrorCode.RATE_LIMITED);
      expect(error.toBody().retryAfterMs).toBeGreaterThan(0);
    });
  });

  describe('body parser errors', () => {
    it('maps an over-limit body to PAYLOAD_TOO_LARGE', () => {
      const { error, unexpected } = toAppError(
        bodyParserError('request entity too large', 'entity.too.large', 413),
      );
      expect(unexpected).toBe(false);
      expect(error.status).toBe(413);
      expect(error.toBody()).toEqual({
        code: 'PAYLOAD_TOO_LARGE',
        message: 'Request body is too large',
      });
    });

    it('recognises the status from statusCode alone', () => {
      const error = Object.assign(new Error('too large'), {
        type: 'entity.too.large',
        statusCode: 413,
        expose: true,
      });
      expect(toAppError(error).error.code).toBe('PAYLOAD_TOO_LARGE');
    });

    it('maps malformed JSON to VALIDATION_FAILED without the parser internals', () => {
      const { error, unexpected } = toAppError(
        bodyParserError(
          'Unexpected end of JSON input',
          'entity.parse.failed',
          HttpStatus.BAD_REQUEST,
        ),
      );
      expect(unexpected).toBe(false);
      expect(error.status).toBe(400);
      expect(error.toBody()).toEqual({ code: 'VALIDATION_FAILED', message: 'Malformed JSON body' });
    });

    it('maps other client-side body errors to VALIDATION_FAILED with their message', () => {
      const { error, unexpected } = toAppError(
        bodyParserError('unsupported charset "UTF-7"', 'charset.unsupported', 415),
      );
      expect(unexpected).toBe(false);
      expect(error.toBody()).toEqual({
        code: 'VALIDATION_FAILED',
        message: 'unsupported charset "UTF-7"',
      });
    });
  });

  it('maps a body that does not decode as its Content-Encoding to VALIDATION_FAILED', () => {
    // body-parser hands on zlib's error with a status but no `type`.
    const zlibError = Object.assign(new Error('incorrect header check'), {
      status: 400,
      statusCode: 400,
      expose: true,
      errno: -3,
    });
    const { error, unexpected } = toAppError(zlibError);
    expect(unexpected).toBe(false);
    expect(error.status).toBe(400);
    expect(error.toBody()).toEqual({
      code: 'VALIDATION_FAILED',
      message: 'The request body does not match its Content-Encoding',
    });
  });

  it.each([
    [
      'a refused connection',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
    ],
    [
      'PostgreSQL shutting down',
      Object.assign(new Error('terminating connection due to administrator command'), {
        code: '57P01',
      }),
    ],
    [
      'a full disk under the database',
      Object.assign(new Error('could not extend file "base/5/16566": No space left on device'), {
        code: '53100',
      }),
    ],
    [
      'a full disk under a file write',
      Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }),
    ],
    [
      'a socket error made in another realm (not an instance of this Error)',
      { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:5432' },
    ],
    ['a dropped connection', new Error('Connection terminated unexpectedly')],
    ['a pool that cannot connect', new Error('timeout exceeded when trying to connect')],
  ])('maps %s to a retryable SERVICE_UNAVAILABLE without its text', (_label, thrown) => {
    const { error, unexpected } = toAppError(thrown);
    expect(unexpected).toBe(false);
    expect(error.status).toBe(503);
    expect(error.toBody()).toEqual({
      code: 'SERVICE_UNAVAILABLE',
      message: 'A backend is unavailable; retry shortly (resending with the same ids is safe)',
      retryAfterMs: 1000,
    });
  });

  describe('anything else', () => {
    it.each([
      ['an Error', new Error('connection refused to 10.0.0.5:5432 password=hunter2')],
      ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'id')")],
      ['a string', 'something broke'],
      ['null', null],
      ['undefined', undefined],
      ['a plain object', { message: 'not an error', status: 400 }],
      ['an object with a type that is not an Error', { type: 'entity.too.large', status: 413 }],
    ])('maps %s to INTERNAL 500 without leaking its message', (_label, thrown) => {
      const { error, unexpected } = toAppError(thrown);
      expect(unexpected).toBe(true);
      expect(error.status).toBe(500);
      expect(error.toBody()).toEqual({ code: 'INTERNAL', message: 'Internal server error' });
    });
  });
});

describe('AppError bodies are bounded', () => {
  it('clips a long message and caps details, saying how many were left out', () => {
    const details = Array.from({ length: 100_000 }, (_, i) => `phones.${i} must be a phone`);
    const body = AppError.validation('x'.repeat(10_000), details).toBody();
    expect(body.message.length).toBeLessThanOrEqual(300);
    expect(body.details).toHaveLength(21);
    expect(body.details?.[20]).toBe('… and 99980 more');
    expect(JSON.stringify(body).length).toBeLessThan(6_000);
  });

  it('leaves short errors as they are', () => {
    expect(AppError.validation('bad', ['a: bad']).toBody()).toEqual({
      code: 'VALIDATION_FAILED',
      message: 'bad',
      details: ['a: bad'],
    });
  });
});
