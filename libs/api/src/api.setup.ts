import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { json } from 'express';
import { BEARER_SECURITY } from '@m7s/auth';
import type { LoadedConfig } from '@m7s/core';
import type { ApiConfig } from './api.config';
import { serverVersion } from './common/version';
import { ApiExceptionFilter, apiErrorMiddleware } from './errors/api-exception.filter';
import { createValidationPipe } from './errors/validation';
import { setupGrpc } from './grpc/grpc.setup';

export const API_DOCS_PATH = 'api/docs';
export const API_DOCS_JSON_PATH = 'api/docs-json';

/** The OpenAPI document of the REST routes under /api (served at /api/docs-json). */
export function buildOpenApiDocument(app: INestApplication) {
  const builder = new DocumentBuilder()
    .setTitle('m7s-nest API')
    .setDescription(
      'Streaming media server admin API. Paths follow Monibuca v5 where it has them. Log in with POST /api/auth/login and send ' +
        '`Authorization: Bearer <accessToken>`. Errors are JSON {code, message, details?}; code is a typed code (INVALID_ARGUMENT, ' +
        'NOT_FOUND, STREAM_NOT_FOUND...) mapped to the HTTP status.',
    )
    .setVersion(serverVersion())
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Access token from POST /api/auth/login' }, BEARER_SECURITY)
    .build();
  const document = SwaggerModule.createDocument(app, builder);
  // Media routes (/flv/...) are plugins' own protocols, not the admin API.
  for (const path of Object.keys(document.paths)) if (!path.startsWith('/api/')) delete document.paths[path];
  return document;
}

/**
 * Keys that name a member of every object (__proto__, constructor, toString, hasOwnProperty...) or
 * `prototype`: on the way into a DTO they would reach a prototype or be dropped without a word instead of
 * refused as unknown. No field of the API has these names.
 */
function refusePrototypeKeys(key: string, value: unknown): unknown {
  if (key in Object.prototype || key === 'prototype') throw new SyntaxError(`the key "${key}" is not allowed`);
  return value;
}

/** Called by the server before app.init(): JSON bodies (bounded), validation, error mapping, Swagger, the gRPC microservice. */
export async function configureApi(app: INestApplication, config: LoadedConfig): Promise<void> {
  const api = config.sections.get('api') as ApiConfig;
  const express = app as NestExpressApplication;
  // Only JSON objects and arrays; larger bodies than api.bodyLimit get 413. The error middleware right after
  // answers body-parser's errors (malformed JSON, too large) in the API's error format.
  express.use(json({ limit: api.bodyLimit, strict: true, reviver: refusePrototypeKeys }));
  express.use(apiErrorMiddleware);
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ApiExceptionFilter());
  if (api.docs) {
    const document = buildOpenApiDocument(app);
    SwaggerModule.setup(API_DOCS_PATH, app, document, { jsonDocumentUrl: API_DOCS_JSON_PATH, yamlDocumentUrl: 'api/docs-yaml', customSiteTitle: 'm7s-nest API' });
  }
  await setupGrpc(app, config);
}
