import { IsBoolean } from 'class-validator';
import { ByteSize, IsListen } from '@m7s/core';

/** `api` section: the REST API under /api. */
export class ApiConfig {
  /** Swagger UI at /api/docs and the OpenAPI document at /api/docs-json. */
  @IsBoolean() docs = true;
  /** Largest request body accepted; larger ones get 413. */
  @ByteSize() bodyLimit = 100 * 1024;
}

/** `grpc` section: the gRPC API (proto files in libs/api/proto). */
export class GrpcConfig {
  @IsBoolean() enable = true;
  @IsListen() listen = ':50051';
}
