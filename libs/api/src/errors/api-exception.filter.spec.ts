import type { ArgumentsHost } from '@nestjs/common';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { firstValueFrom, Observable } from 'rxjs';
import { AppError, StreamError } from '@m7s/core';
import { ApiExceptionFilter } from './api-exception.filter';

function httpHost(headersSent = false) {
  const res = {
    headersSent,
    writableEnded: false,
    sent: undefined as { status: number; body: unknown } | undefined,
    ended: false,
    status(code: number) {
      return { json: (body: unknown) => void (res.sent = { status: code, body }) };
    },
    end() {
      res.ended = true;
    },
  };
  const req = { method: 'GET', originalUrl: '/api/x' };
  const host = { getType: () => 'http', switchToHttp: () => ({ getRequest: () => req, getResponse: () => res }) } as unknown as ArgumentsHost;
  return { host, res };
}

describe('ApiExceptionFilter', () => {
  const filter = new ApiExceptionFilter();

  it('answers an HTTP request with the status and {code, message} of the error', () => {
    const { host, res } = httpHost();
    filter.catch(new StreamError('STREAM_NOT_FOUND', 'no stream live/x'), host);
    expect(res.sent).toEqual({ status: 404, body: { code: 'STREAM_NOT_FOUND', message: 'no stream live/x' } });
  });

  it('leaves a response the route already started alone (only ends it)', () => {
    const { host, res } = httpHost(true);
    filter.catch(new AppError('INVALID_ARGUMENT', 'late'), host);
    expect(res.sent).toBeUndefined();
    expect(res.ended).toBe(true);
  });

  it('fails a gRPC call with the gRPC status and the typed code in the metadata', async () => {
    const host = { getType: () => 'rpc' } as unknown as ArgumentsHost;
    const result = filter.catch(new AppError('PERMISSION_DENIED', 'role viewer lacks control'), host) as Observable<never>;
    const error = await firstValueFrom(result).catch((e: unknown) => e as { code: number; message: string; metadata: { get(key: string): unknown[] } });
    expect(error).toMatchObject({ code: GrpcStatus.PERMISSION_DENIED, message: 'role viewer lacks control' });
    expect(error.metadata.get('error-code')).toEqual(['PERMISSION_DENIED']);
  });
});
