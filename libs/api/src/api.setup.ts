import type { INestApplication } from '@nestjs/common';
import type { LoadedConfig } from '@m7s/core';

/** Called by the server before app.init(): body limits, Swagger, the gRPC microservice. */
export async function configureApi(_app: INestApplication, _config: LoadedConfig): Promise<void> {}
