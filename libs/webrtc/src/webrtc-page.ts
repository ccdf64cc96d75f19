import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Injectable } from '@nestjs/common';
import { projectRoot } from '@m7s/core';
import type { IceServerConfig } from './webrtc.config';

/** The committed page, found from the project root so the built server serves the same file. */
export function webrtcPagePath(): string {
  return join(projectRoot(), 'libs', 'webrtc', 'page', 'index.html');
}

const CONFIG_MARK = '/*M7S_CONFIG*/null';

/** GET /webrtc/: one HTML file with its script (no build step), given the ICE servers of the config. */
@Injectable()
export class WebrtcPage {
  private template: string | undefined;

  html(iceServers: readonly IceServerConfig[]): string {
    this.template ??= readFileSync(webrtcPagePath(), 'utf8');
    const servers = iceServers
      .filter((s) => s.urls.length > 0)
      .map((s) => (s.username ? { urls: s.urls, username: s.username, credential: s.credential } : { urls: s.urls }));
    // JSON inside a script: '<' escaped so no value can close the element.
    const json = JSON.stringify({ iceServers: servers }).replace(/</g, '\\u003c');
    return this.template.replace(CONFIG_MARK, json);
  }
}
