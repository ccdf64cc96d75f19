import { AuthSessionEntity } from './auth-session.entity';
import { JobEntity } from './job.entity';
import { PullProxyEntity } from './pull-proxy.entity';
import { PushProxyEntity } from './push-proxy.entity';
import { RecordingEntity } from './recording.entity';
import { SettingEntity } from './setting.entity';
import { StreamAliasEntity } from './stream-alias.entity';
import { UserEntity } from './user.entity';

export * from './auth-session.entity';
export * from './job.entity';
export * from './pull-proxy.entity';
export * from './push-proxy.entity';
export * from './recording.entity';
export * from './setting.entity';
export * from './stream-alias.entity';
export * from './user.entity';

export const ENTITIES = [UserEntity, AuthSessionEntity, PullProxyEntity, PushProxyEntity, StreamAliasEntity, RecordingEntity, JobEntity, SettingEntity];
