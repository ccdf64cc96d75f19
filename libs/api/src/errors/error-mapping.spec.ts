import { BadRequestException, ForbiddenException, HttpException, NotFoundException, PayloadTooLargeException } from '@nestjs/common';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { AppError, AppErrorCode, StreamError, StreamErrorCode } from '@m7s/core';
import { mapError } from './error-mapping';
import { toGrpcStatus } from './grpc-status';

function bodyParserError(type: string, status: number, message: string): Error {
  return Object.assign(new Error(message), { type, status, statusCode: status, expose: status < 500 });
}

describe('mapError and toGrpcStatus', () => {
  it.each<[AppErrorCode, number, number]>([
    ['INVALID_ARGUMENT', 400, GrpcStatus.INVALID_ARGUMENT],
    ['UNAUTHENTICATED', 401, GrpcStatus.UNAUTHENTICATED],
    ['PERMISSION_DENIED', 403, GrpcStatus.PERMISSION_DENIED],
    ['NOT_FOUND', 404, GrpcStatus.NOT_FOUND],
    ['ALREADY_EXISTS', 409, GrpcStatus.ALREADY_EXISTS],
    ['FAILED_PRECONDITION', 409, GrpcStatus.FAILED_PRECONDITION],
    ['PAYLOAD_TOO_LARGE', 413, GrpcStatus.RESOURCE_EXHAUSTED],
    ['RESOURCE_EXHAUSTED', 429, GrpcStatus.RESOURCE_EXHAUSTED],
    ['UNAVAILABLE', 503, GrpcStatus.UNAVAILABLE],
  ])('AppError %s -> HTTP %d, gRPC %d, with its message and details', (code, http, grpc) => {
    const error = new AppError(code, 'what went wrong', { field: 'x' });
    expect(mapError(error)).toEqual({ status: http, appCode: code, unexpected: false, body: { code, message: 'what went wrong', details: { field: 'x' } } });
    expect(toGrpcStatus(error)).toEqual({ code: grpc, message: 'what went wrong', reason: code, unexpected: false });
  });

  it('hides the message of an INTERNAL AppError', () => {
    expect(mapError(new AppError('INTERNAL', 'db password is hunter2'))).toMatchObject({ status: 500, unexpected: true, body: { code: 'INTERNAL', message: 'internal error' } });
  });

  it.each<[StreamErrorCode, number, number]>([
    ['STREAM_NOT_FOUND', 404, GrpcStatus.NOT_FOUND],
    ['BAD_STREAM_PATH', 400, GrpcStatus.INVALID_ARGUMENT],
    ['BAD_QUERY', 400, GrpcStatus.INVALID_ARGUMENT],
    ['STREAM_BUSY', 409, GrpcStatus.FAILED_PRECONDITION],
    ['UNAUTHORIZED', 403, GrpcStatus.PERMISSION_DENIED],
    ['SHUTDOWN', 503, GrpcStatus.UNAVAILABLE],
  ])('StreamError %s -> HTTP %d, gRPC %d, keeping its own code', (code, http, grpc) => {
    const error = new StreamError(code, 'no stream live/x');
    expect(mapError(error)).toMatchObject({ status: http, body: { code, message: 'no stream live/x' } });
    expect(toGrpcStatus(error)).toMatchObject({ code: grpc, reason: code });
  });

  it.each<[HttpException, number, string]>([
    [new BadRequestException(['a must be a string', 'b must be an integer']), 400, 'INVALID_ARGUMENT'],
    [new ForbiddenException('no'), 403, 'PERMISSION_DENIED'],
    [new NotFoundException('Cannot GET /api/x'), 404, 'NOT_FOUND'],
    [new PayloadTooLargeException(), 413, 'PAYLOAD_TOO_LARGE'],
    [new HttpException('slow down', 429), 429, 'RESOURCE_EXHAUSTED'],
  ])('Nest HttpException %# -> its status and a typed code', (exception, status, code) => {
    const mapped = mapError(exception);
    expect(mapped).toMatchObject({ status, unexpected: false, body: { code, message: expect.any(String) } });
  });

  it('joins the messages of a validation exception', () => {
    expect(mapError(new BadRequestException(['a must be a string', 'b must be an integer'])).body).toEqual({
      code: 'INVALID_ARGUMENT',
      message: 'a must be a string; b must be an integer',
      details: { problems: ['a must be a string', 'b must be an integer'] },
    });
  });

  it('maps body-parser errors: malformed JSON 400, too large 413', () => {
    expect(mapError(bodyParserError('entity.parse.failed', 400, 'Unexpected token'))).toMatchObject({ status: 400, body: { code: 'INVALID_ARGUMENT', message: expect.stringContaining('invalid JSON') } });
    expect(mapError(Object.assign(bodyParserError('entity.too.large', 413, 'request entity too large'), { limit: 1024 }))).toMatchObject({
      status: 413,
      body: { code: 'PAYLOAD_TOO_LARGE', message: expect.stringContaining('1024') },
    });
    expect(mapError(bodyParserError('encoding.unsupported', 415, 'unsupported content encoding "x"'))).toMatchObject({ status: 415, body: { code: 'INVALID_ARGUMENT' } });
  });

  it('answers anything else with a generic 500 (the caller logs it)', () => {
    for (const thrown of [new Error('SQLITE_IOERR /var/db'), 'a string', undefined, new HttpException('boom', 500)]) {
      expect(mapError(thrown)).toEqual({ status: 500, appCode: 'INTERNAL', unexpected: true, body: { code: 'INTERNAL', message: 'internal error' } });
      expect(toGrpcStatus(thrown)).toMatchObject({ code: GrpcStatus.INTERNAL, message: 'internal error', unexpected: true });
    }
  });
});
