import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { MicroserviceOptions, Transport } from '@nestjs/microservices';
import { LoadedConfig, parseListen, projectRoot } from '@m7s/core';
import type { GrpcConfig } from '../api.config';

export const GRPC_PACKAGE = 'm7s';

/** The committed proto, found from the project root so the built server reads the same file. */
export function grpcProtoPath(): string {
  return join(projectRoot(), 'libs', 'api', 'proto', 'm7s.proto');
}

/** Connects the gRPC microservice (grpc.listen) to the app; bootstrap starts it after init. */
export async function setupGrpc(app: INestApplication, config: LoadedConfig): Promise<void> {
  const grpc = config.sections.get('grpc') as GrpcConfig;
  if (!grpc.enable) return;
  const { host, port } = parseListen(grpc.listen);
  app.connectMicroservice<MicroserviceOptions>(
    {
      transport: Transport.GRPC,
      options: {
        package: GRPC_PACKAGE,
        protoPath: grpcProtoPath(),
        url: `${host || '0.0.0.0'}:${port}`,
        // defaults: false keeps unset fields undefined ("leave unchanged" in updates).
        loader: { keepCase: true, longs: Number, enums: String, defaults: false, oneofs: true },
      },
    },
    // Global pipes, filters and guards of the HTTP app also run for gRPC calls.
    { inheritAppConfig: true },
  );
}
