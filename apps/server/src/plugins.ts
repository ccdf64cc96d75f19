import type { MediaPlugin } from '@m7s/core';
import { flvPlugin } from '@m7s/flv';
import { rtmpPlugin } from '@m7s/rtmp';

/** Every protocol plugin this build carries; each is loaded only when its config section enables it. */
export const PLUGINS: readonly MediaPlugin[] = [rtmpPlugin, flvPlugin];
