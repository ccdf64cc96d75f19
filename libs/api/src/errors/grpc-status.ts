import { status as GrpcStatus } from '@grpc/grpc-js';
import type { AppErrorCode } from '@m7s/core';
import { mapError } from './error-mapping';

/** The gRPC status of each AppErrorCode: the same name, except PAYLOAD_TOO_LARGE which gRPC calls RESOURCE_EXHAUSTED. */
export const GRPC_STATUS: Record<AppErrorCode, GrpcStatus> = {
  INVALID_ARGUMENT: GrpcStatus.INVALID_ARGUMENT,
  UNAUTHENTICATED: GrpcStatus.UNAUTHENTICATED,
  PERMISSION_DENIED: GrpcStatus.PERMISSION_DENIED,
  NOT_FOUND: GrpcStatus.NOT_FOUND,
  ALREADY_EXISTS: GrpcStatus.ALREADY_EXISTS,
  FAILED_PRECONDITION: GrpcStatus.FAILED_PRECONDITION,
  PAYLOAD_TOO_LARGE: GrpcStatus.RESOURCE_EXHAUSTED,
  RESOURCE_EXHAUSTED: GrpcStatus.RESOURCE_EXHAUSTED,
  UNAVAILABLE: GrpcStatus.UNAVAILABLE,
  INTERNAL: GrpcStatus.INTERNAL,
};

export interface GrpcErrorStatus {
  /** A @grpc/grpc-js `status` value. */
  code: number;
  message: string;
  /** The typed code (STREAM_NOT_FOUND, ALREADY_EXISTS...), finer than the gRPC status. */
  reason: string;
  /** Not a typed error: log it (the message is generic). */
  unexpected: boolean;
}

/** Maps the same errors as the HTTP filter (AppError, StreamError, Nest HttpException...) to a gRPC status. */
export function toGrpcStatus(error: unknown): GrpcErrorStatus {
  const { appCode, body, unexpected } = mapError(error);
  return { code: GRPC_STATUS[appCode], message: body.message, reason: body.code, unexpected };
}
