import { HttpException } from '@nestjs/common';
import { AppError, AppErrorCode, StreamError, StreamErrorCode } from '@m7s/core';

/** The JSON body of every API error. */
export interface ErrorBody {
  /** An AppErrorCode, or a StreamErrorCode for errors of the engine (STREAM_NOT_FOUND...). */
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export interface MappedError {
  status: number;
  /** The AppErrorCode the error stands for (the body's code may be a finer StreamErrorCode). */
  appCode: AppErrorCode;
  body: ErrorBody;
  /** Not a typed error: log it, the client only gets a generic message. */
  unexpected: boolean;
}

export const APP_ERROR_STATUS: Record<AppErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  FAILED_PRECONDITION: 409,
  PAYLOAD_TOO_LARGE: 413,
  RESOURCE_EXHAUSTED: 429,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

/** The AppErrorCode each engine error stands for at the API edge. */
export const STREAM_ERROR_CODE: Record<StreamErrorCode, AppErrorCode> = {
  STREAM_BUSY: 'FAILED_PRECONDITION',
  STREAM_NOT_FOUND: 'NOT_FOUND',
  BAD_STREAM_PATH: 'INVALID_ARGUMENT',
  BAD_QUERY: 'INVALID_ARGUMENT',
  WAIT_TIMEOUT: 'NOT_FOUND',
  PUBLISH_TIMEOUT: 'UNAVAILABLE',
  IDLE_TIMEOUT: 'FAILED_PRECONDITION',
  KICKED: 'FAILED_PRECONDITION',
  STOPPED: 'FAILED_PRECONDITION',
  UNAUTHORIZED: 'PERMISSION_DENIED',
  PLAYER_FAILED: 'INTERNAL',
  SHUTDOWN: 'UNAVAILABLE',
};

/** An HTTP status (from Nest's HttpException or body-parser) as an AppErrorCode. */
export function codeOfStatus(status: number): AppErrorCode {
  switch (status) {
    case 401:
      return 'UNAUTHENTICATED';
    case 403:
      return 'PERMISSION_DENIED';
    case 404:
      return 'NOT_FOUND';
    case 409:
      return 'FAILED_PRECONDITION';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    case 429:
      return 'RESOURCE_EXHAUSTED';
    case 503:
      return 'UNAVAILABLE';
    default:
      return status >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT';
  }
}

/** What body-parser (express.json) attaches to the errors it passes on. */
interface BodyParserError extends Error {
  type: string;
  status?: number;
  statusCode?: number;
  expose?: boolean;
  limit?: number;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  return error instanceof Error && typeof (error as BodyParserError).type === 'string' && typeof ((error as BodyParserError).status ?? (error as BodyParserError).statusCode) === 'number';
}

function httpExceptionMessage(exception: HttpException): { message: string; details?: Record<string, unknown> } {
  const response = exception.getResponse();
  if (typeof response === 'string') return { message: response };
  const body = response as { message?: unknown; error?: unknown };
  if (Array.isArray(body.message)) return { message: body.message.map(String).join('; '), details: { problems: body.message } };
  if (typeof body.message === 'string') return { message: body.message };
  return { message: exception.message };
}

const INTERNAL_MESSAGE = 'internal error';

/** Maps anything thrown while serving a request to a status and a {code, message, details?} body. */
export function mapError(error: unknown): MappedError {
  if (error instanceof AppError) {
    const unexpected = error.code === 'INTERNAL';
    const body: ErrorBody = { code: error.code, message: unexpected ? INTERNAL_MESSAGE : error.message };
    if (error.details && !unexpected) body.details = error.details;
    return { status: APP_ERROR_STATUS[error.code] ?? 500, appCode: error.code, unexpected, body };
  }
  if (error instanceof StreamError) {
    const appCode = STREAM_ERROR_CODE[error.code] ?? 'INTERNAL';
    return { status: APP_ERROR_STATUS[appCode], appCode, unexpected: false, body: { code: error.code, message: error.message } };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const appCode = codeOfStatus(status);
    if (appCode === 'INTERNAL') return internal();
    const { message, details } = httpExceptionMessage(error);
    return { status, appCode, unexpected: false, body: { code: appCode, message, ...(details ? { details } : {}) } };
  }
  if (isBodyParserError(error)) {
    if (error.type === 'entity.parse.failed') return typed('INVALID_ARGUMENT', `invalid JSON body: ${error.message}`);
    if (error.type === 'entity.too.large') return typed('PAYLOAD_TOO_LARGE', `request body larger than ${error.limit ?? 'api.bodyLimit'} bytes (api.bodyLimit)`);
    const status = error.status ?? error.statusCode ?? 500;
    const appCode = codeOfStatus(status);
    if (appCode !== 'INTERNAL' && error.expose !== false) return { status, appCode, unexpected: false, body: { code: appCode, message: error.message } };
  }
  return internal();
}

function typed(code: AppErrorCode, message: string): MappedError {
  return { status: APP_ERROR_STATUS[code], appCode: code, unexpected: false, body: { code, message } };
}

function internal(): MappedError {
  return { status: 500, appCode: 'INTERNAL', unexpected: true, body: { code: 'INTERNAL', message: INTERNAL_MESSAGE } };
}
