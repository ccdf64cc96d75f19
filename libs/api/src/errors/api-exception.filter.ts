import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import { Metadata } from '@grpc/grpc-js';
import type { NextFunction, Request, Response } from 'express';
import { Observable, throwError } from 'rxjs';
import { mapError } from './error-mapping';
import { toGrpcStatus } from './grpc-status';

const logger = new Logger('ApiErrors');

/** Writes the {code, message, details?} answer of an error, unless the route already started its own response. */
export function sendError(req: Request, res: Response, error: unknown): void {
  const mapped = mapError(error);
  if (mapped.unexpected) logger.error({ msg: 'request failed', method: req.method, url: req.originalUrl, error: error instanceof Error ? error.stack : String(error) });
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return;
  }
  res.status(mapped.status).json(mapped.body);
}

/** express error middleware for what fails before a route runs (body-parser: malformed JSON, body too large). */
export function apiErrorMiddleware(error: unknown, req: Request, res: Response, _next: NextFunction): void {
  sendError(req, res, error);
}

/**
 * The one mapping of typed errors at the edges: HTTP routes answer {code, message, details?} with the status
 * of the code; gRPC methods (global filters are inherited by the gRPC microservice) fail with the gRPC status.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): Observable<never> | void {
    if (host.getType() === 'rpc') {
      const status = toGrpcStatus(exception);
      if (status.unexpected) logger.error({ msg: 'gRPC call failed', error: exception instanceof Error ? exception.stack : String(exception) });
      const metadata = new Metadata();
      metadata.set('error-code', status.reason);
      // grpc-js sends `code` as the status and `details` as its message.
      return throwError(() => ({ code: status.code, message: status.message, details: status.message, metadata }));
    }
    if (host.getType() !== 'http') throw exception;
    const http = host.switchToHttp();
    sendError(http.getRequest<Request>(), http.getResponse<Response>(), exception);
  }
}
