import { applyDecorators, createParamDecorator, ExecutionContext } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';
import type { Request } from 'express';

/**
 * The `*streamPath` wildcard of a route as one string (`live/cam1`). Express gives the segments as an
 * array; the services normalize the path (and answer BAD_STREAM_PATH for a bad one).
 */
export const StreamPathParam = createParamDecorator((_data: unknown, ctx: ExecutionContext): string => {
  const raw = ctx.switchToHttp().getRequest<Request>().params['streamPath'] as string | string[] | undefined;
  return Array.isArray(raw) ? raw.join('/') : (raw ?? '');
});

/** Documents the wildcard (a custom param decorator is not seen by Swagger). */
export function ApiStreamPath(): MethodDecorator {
  return applyDecorators(ApiParam({ name: 'streamPath', description: 'Stream path; may contain slashes (live/cam1)', example: 'live/cam1', schema: { type: 'string' } }));
}
