import { Controller, Type } from '@nestjs/common';
import { GrpcMethod, Payload } from '@nestjs/microservices';
import { ApiExcludeController } from '@nestjs/swagger';
import type { ServerUnaryCall } from '@grpc/grpc-js';
import { AppError, normalizeStreamPath } from '@m7s/core';
import {
  Authenticated,
  AuthService,
  AuthUser,
  CreateUserDto,
  CurrentUser,
  LoginDto,
  Permission,
  Public,
  RefreshDto,
  RequirePermission,
  UpdateUserDto,
  UsersService,
  UserView,
} from '@m7s/auth';
import { SetAliasDto } from '../aliases/alias.dto';
import { AliasService } from '../aliases/alias.service';
import { PageQueryDto } from '../common/pagination';
import { ModifyConfigDto } from '../config/config.dto';
import { ConfigApiService } from '../config/config-api.service';
import { createValidationPipe } from '../errors/validation';
import { CreatePullProxyDto, CreatePushProxyDto, UpdatePullProxyDto, UpdatePushProxyDto } from '../proxies/proxy.dto';
import { PullProxyService, PushProxyService } from '../proxies/proxy.service';
import type { StreamInfoDto, SubscriberInfoDto } from '../streams/stream.dto';
import { StreamsService } from '../streams/streams.service';
import { SystemService } from '../system/system.service';

const SERVICE = 'Api';
const validationPipe = createValidationPipe();

/** Validates a gRPC request with the REST DTO (same rules, same INVALID_ARGUMENT errors). */
async function validated<T extends object>(dto: Type<T>, plain: Record<string, unknown>): Promise<T> {
  // Unset proto3 fields are absent or empty; `_field` keys are proto-loader's markers of `optional` fields.
  const defined = Object.fromEntries(Object.entries(plain).filter(([key, value]) => value !== undefined && value !== '' && !key.startsWith('_')));
  return (await validationPipe.transform(defined, { type: 'body', metatype: dto })) as T;
}

function parseJsonObject(text: string | undefined, what: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text || '{}');
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new AppError('INVALID_ARGUMENT', `${what} must be a JSON object`);
}

function grpcUser(user: UserView) {
  return { id: user.id, username: user.username, role: user.role, disabled: user.disabled };
}

function grpcStream(stream: StreamInfoDto) {
  return {
    path: stream.path,
    state: stream.state,
    subscribers: stream.subscribers,
    startTime: stream.startTime,
    type: stream.type ?? '',
    remoteAddress: stream.remoteAddress ?? '',
    videoTrack: stream.videoTrack,
    audioTrack: stream.audioTrack,
  };
}

function grpcSubscriber(subscriber: SubscriberInfoDto) {
  return { ...subscriber, id: Number(subscriber.id) };
}

interface Empty {
  [key: string]: never;
}
interface WithId {
  id?: number;
}
interface StreamPathRequest {
  streamPath?: string;
}
interface PageRequest {
  pageNum?: number;
  pageSize?: number;
}

/**
 * The gRPC service `m7s.Api` (libs/api/proto/m7s.proto): the REST API's services behind the same
 * permission decorators (the global guard reads the bearer token from the `authorization` metadata) and
 * the same error mapping (ApiExceptionFilter turns typed errors into gRPC status codes).
 */
@ApiExcludeController()
@Controller()
export class GrpcApiController {
  constructor(
    private readonly auth: AuthService,
    private readonly users: UsersService,
    private readonly system: SystemService,
    private readonly streams: StreamsService,
    private readonly aliases: AliasService,
    private readonly configApi: ConfigApiService,
    private readonly pullProxies: PullProxyService,
    private readonly pushProxies: PushProxyService,
  ) {}

  @GrpcMethod(SERVICE, 'Login')
  @Public()
  // No parameter decorators here: Nest then passes (request, metadata, call) as they are, and the call gives the peer.
  async login(request: { username?: string; password?: string }, _metadata: unknown, call: ServerUnaryCall<unknown, unknown>) {
    const body = await validated(LoginDto, request);
    // The peer is "ipv4:127.0.0.1:50000"; the rate limit counts per address.
    const address = call.getPeer().replace(/^ipv[46]:/, '').replace(/:\d+$/, '');
    return this.auth.login(body.username, body.password, address);
  }

  @GrpcMethod(SERVICE, 'Refresh')
  @Public()
  async refresh(@Payload() request: { refreshToken?: string }) {
    const body = await validated(RefreshDto, request);
    return this.auth.refresh(body.refreshToken);
  }

  @GrpcMethod(SERVICE, 'Logout')
  @Authenticated()
  async logout(@Payload() _request: Empty, @CurrentUser() user: AuthUser) {
    await this.auth.logout(user);
    return { success: true };
  }

  @GrpcMethod(SERVICE, 'UserInfo')
  @Authenticated()
  async userInfo(@Payload() _request: Empty, @CurrentUser() user: AuthUser) {
    return grpcUser(await this.users.get(user.id));
  }

  @GrpcMethod(SERVICE, 'SysInfo')
  @RequirePermission(Permission.Read)
  sysInfo() {
    const info = this.system.sysInfo();
    return { ...info, plugins: info.plugins.map((p) => ({ name: p.name, version: p.version, disabled: !p.enabled })) };
  }

  @GrpcMethod(SERVICE, 'Summary')
  @RequirePermission(Permission.Read)
  summary() {
    return this.system.summary();
  }

  @GrpcMethod(SERVICE, 'StreamList')
  @RequirePermission(Permission.Read)
  async streamList(@Payload() request: PageRequest) {
    const page = this.streams.list(await validated(PageQueryDto, { ...request }));
    return { ...page, list: page.list.map(grpcStream) };
  }

  @GrpcMethod(SERVICE, 'StreamInfo')
  @RequirePermission(Permission.Read)
  streamInfo(@Payload() request: StreamPathRequest) {
    return grpcStream(this.streams.info(normalizeStreamPath(request.streamPath ?? '')));
  }

  @GrpcMethod(SERVICE, 'GetSubscribers')
  @RequirePermission(Permission.Read)
  async getSubscribers(@Payload() request: StreamPathRequest & PageRequest) {
    const query = await validated(PageQueryDto, { pageNum: request.pageNum, pageSize: request.pageSize });
    const page = this.streams.subscribers(normalizeStreamPath(request.streamPath ?? ''), query);
    return { ...page, list: page.list.map(grpcSubscriber) };
  }

  @GrpcMethod(SERVICE, 'StopPublish')
  @RequirePermission(Permission.ControlStreams)
  stopPublish(@Payload() request: StreamPathRequest) {
    this.streams.stop(request.streamPath ?? '');
    return { success: true };
  }

  @GrpcMethod(SERVICE, 'StopSubscribe')
  @RequirePermission(Permission.ControlStreams)
  stopSubscribe(@Payload() request: WithId) {
    this.streams.stopSubscriber(request.id ?? 0);
    return { success: true };
  }

  @GrpcMethod(SERVICE, 'GetStreamAlias')
  @RequirePermission(Permission.Read)
  async getStreamAlias() {
    return { list: await this.aliases.list() };
  }

  @GrpcMethod(SERVICE, 'SetStreamAlias')
  @RequirePermission(Permission.ControlStreams)
  async setStreamAlias(@Payload() request: { alias?: string; streamPath?: string; autoRemove?: boolean }) {
    await this.aliases.set(await validated(SetAliasDto, { ...request }));
    return { success: true };
  }

  @GrpcMethod(SERVICE, 'GetConfig')
  @RequirePermission(Permission.ManageConfig)
  async getConfig(@Payload() request: { name?: string }) {
    const view = await this.configApi.get(request.name || undefined);
    return { json: JSON.stringify(view.value) };
  }

  @GrpcMethod(SERVICE, 'ModifyConfig')
  @RequirePermission(Permission.ManageConfig)
  async modifyConfig(@Payload() request: { name?: string; json?: string }) {
    const body = await validated(ModifyConfigDto, { name: request.name, values: parseJsonObject(request.json, 'json') });
    return body.name ? this.configApi.modifySection(body.name, body.values) : this.configApi.modify(body.values);
  }

  @GrpcMethod(SERVICE, 'GetPullProxyList')
  @RequirePermission(Permission.Read)
  async getPullProxyList() {
    return { list: await this.pullProxies.list() };
  }

  @GrpcMethod(SERVICE, 'AddPullProxy')
  @RequirePermission(Permission.ControlStreams)
  async addPullProxy(@Payload() request: Record<string, unknown>) {
    const { id: _id, status: _status, lastError: _lastError, rtt: _rtt, ...fields } = request;
    return this.pullProxies.add(await validated(CreatePullProxyDto, fields));
  }

  @GrpcMethod(SERVICE, 'UpdatePullProxy')
  @RequirePermission(Permission.ControlStreams)
  async updatePullProxy(@Payload() request: Record<string, unknown>) {
    const { status: _status, lastError: _lastError, rtt: _rtt, ...fields } = request;
    return this.pullProxies.update(await validated(UpdatePullProxyDto, fields));
  }

  @GrpcMethod(SERVICE, 'RemovePullProxy')
  @RequirePermission(Permission.ControlStreams)
  async removePullProxy(@Payload() request: WithId) {
    await this.pullProxies.remove(request.id ?? 0);
    return { success: true };
  }

  @GrpcMethod(SERVICE, 'GetPushProxyList')
  @RequirePermission(Permission.Read)
  async getPushProxyList() {
    return { list: await this.pushProxies.list() };
  }

  @GrpcMethod(SERVICE, 'AddPushProxy')
  @RequirePermission(Permission.ControlStreams)
  async addPushProxy(@Payload() request: Record<string, unknown>) {
    const { id: _id, status: _status, lastError: _lastError, rtt: _rtt, ...fields } = request;
    return this.pushProxies.add(await validated(CreatePushProxyDto, fields));
  }

  @GrpcMethod(SERVICE, 'UpdatePushProxy')
  @RequirePermission(Permission.ControlStreams)
  async updatePushProxy(@Payload() request: Record<string, unknown>) {
    const { status: _status, lastError: _lastError, rtt: _rtt, ...fields } = request;
    return this.pushProxies.update(await validated(UpdatePushProxyDto, fields));
  }

  @GrpcMethod(SERVICE, 'RemovePushProxy')
  @RequirePermission(Permission.ControlStreams)
  async removePushProxy(@Payload() request: WithId) {
    await this.pushProxies.remove(request.id ?? 0);
    return { success: true };
  }

  @GrpcMethod(SERVICE, 'GetUsers')
  @RequirePermission(Permission.ManageUsers)
  async getUsers() {
    return { list: (await this.users.list()).map(grpcUser) };
  }

  @GrpcMethod(SERVICE, 'AddUser')
  @RequirePermission(Permission.ManageUsers)
  async addUser(@Payload() request: Record<string, unknown>) {
    return grpcUser(await this.users.create(await validated(CreateUserDto, request)));
  }

  @GrpcMethod(SERVICE, 'UpdateUser')
  @RequirePermission(Permission.ManageUsers)
  async updateUser(@Payload() request: WithId & Record<string, unknown>) {
    const { id, ...fields } = request;
    return grpcUser(await this.users.update(Number(id ?? 0), await validated(UpdateUserDto, fields)));
  }

  @GrpcMethod(SERVICE, 'RemoveUser')
  @RequirePermission(Permission.ManageUsers)
  async removeUser(@Payload() request: WithId) {
    await this.users.remove(Number(request.id ?? 0));
    return { success: true };
  }
}
