import { Module } from '@nestjs/common';

/** REST controllers under /api and the gRPC service (filled by the API work). */
@Module({})
export class ApiModule {}
