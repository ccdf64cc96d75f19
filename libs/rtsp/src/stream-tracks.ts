import type { ClientInfo, StreamRegistry, TrackSet } from '@m7s/core';

/**
 * The tracks of a stream, to describe it before playing (RTSP DESCRIBE, push ANNOUNCE): at once when it is
 * live, else after waiting for its publisher as a reader would (so waitTimeout and on-demand pulls apply).
 * `abort` ends the wait early (the client went away).
 */
export function waitForTracks(registry: StreamRegistry, streamPath: string, info: ClientInfo, abort?: (cancel: () => void) => void): Promise<TrackSet> {
  const live = registry.get(registry.resolveAlias(streamPath));
  if (live?.isReady && live.publisher) return Promise.resolve({ ...live.publisher.tracks });
  return new Promise((resolve, reject) => {
    let settled = false;
    const subscriber = registry.subscribe(streamPath, info, {
      backlog: () => 0,
      start: (tracks) => {
        settled = true;
        resolve({ ...tracks });
        // Not from inside the engine's start loop.
        queueMicrotask(() => registry.unsubscribe(subscriber, 'described'));
      },
      track: () => undefined,
      frame: () => undefined,
      publisherLeft: () => false,
      end: (error) => {
        if (settled) return;
        settled = true;
        reject(error);
      },
    });
    abort?.(() => {
      if (settled) return;
      settled = true;
      registry.unsubscribe(subscriber, 'client went away');
      reject(new Error('aborted'));
    });
  });
}
