import { Injectable, Logger } from '@nestjs/common';
import { ConfigService, normalizeStreamPath, StreamAccessRequest, StreamAction, StreamAuth, StreamCredential, StreamError } from '@m7s/core';
import type { StreamAuthConfig } from './auth.config';
import { EXPIRE_PARAM, SIGNATURE_PARAM, verifyStreamSignature } from './url-signing';


/**
 * Stream authorization for every protocol: first the URL signature (when the protocol's publish.key /
 * subscribe.key is set), then the external hook (when streamAuth.hookUrl is set and asks for this action).
 */
@Injectable()
export class StreamAuthService extends StreamAuth {
  private readonly logger = new Logger('StreamAuth');

  constructor(private readonly config: ConfigService) {
    super();
  }

  private get hook(): StreamAuthConfig {
    return this.config.section<StreamAuthConfig>('streamAuth');
  }

  credentialsRequired(action: StreamAction): boolean {
    return this.hook.users.some((u) => u[action]);
  }

  findCredential(username: string): StreamCredential | undefined {
    return this.hook.users.find((u) => u.username === username);
  }

  async authorize(request: StreamAccessRequest): Promise<void> {
    const streamPath = normalizeStreamPath(request.streamPath);
    this.checkSignature(request, streamPath);
    if (this.hook.hookUrl && this.hook[request.action]) await this.askHook(request, streamPath);
  }

  private checkSignature(request: StreamAccessRequest, streamPath: string): void {
    const key = request.action === 'publish' ? this.config.publishPolicy(request.protocol).key : this.config.subscribePolicy(request.protocol).key;
    if (!key) return;
    const check = verifyStreamSignature(key, streamPath, request.query.get(SIGNATURE_PARAM), request.query.get(EXPIRE_PARAM), Date.now() / 1000);
    if (!check.ok) this.deny(request, streamPath, `${request.action} ${streamPath} refused: ${check.reason}`);
  }

  private async askHook(request: StreamAccessRequest, streamPath: string): Promise<void> {
    const body = JSON.stringify({
      action: request.action,
      protocol: request.protocol,
      streamPath,
      query: Object.fromEntries(request.query),
      remoteAddress: request.remoteAddress,
      username: request.username,
    });
    let status: number;
    try {
      const response = await fetch(this.hook.hookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(this.hook.hookTimeout),
        redirect: 'manual',
      });
      status = response.status;
      await response.body?.cancel().catch(() => undefined);
    } catch (error) {
      const name = (error as { name?: unknown } | null)?.name; // a DOMException, not always instanceof Error
      const reason = name === 'TimeoutError' || name === 'AbortError' ? `no answer within ${this.hook.hookTimeout} ms` : 'unreachable';
      this.logger.warn({ msg: `stream auth hook ${reason}: ${this.hook.failOpen ? 'allowing (failOpen)' : 'denying'}`, action: request.action, streamPath, error: String(error) });
      if (this.hook.failOpen) return;
      this.deny(request, streamPath, `${request.action} ${streamPath} refused: the auth hook is ${reason}`);
    }
    if (status < 200 || status > 299) this.deny(request, streamPath, `${request.action} ${streamPath} refused by the auth hook (HTTP ${status})`);
  }

  private deny(request: StreamAccessRequest, streamPath: string, message: string): never {
    this.logger.warn({ msg: 'stream access denied', action: request.action, protocol: request.protocol, streamPath, remoteAddress: request.remoteAddress, reason: message });
    throw new StreamError('UNAUTHORIZED', message);
  }
}
