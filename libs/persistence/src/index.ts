export * from './entities';
export * from './persistence.config';
export * from './data-source';
export * from './settings.service';
export * from './persistence.module';
export * from './job-store';
// Other libs use TypeORM only through these re-exports, so this lib stays the one place that imports it.
export { InjectRepository, InjectDataSource } from '@nestjs/typeorm';
export { DataSource, Repository, In, LessThan, LessThanOrEqual, MoreThan, MoreThanOrEqual, Between, Like, IsNull, Not } from 'typeorm';
export type { EntityManager, FindOptionsWhere } from 'typeorm';
