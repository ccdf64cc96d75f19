import type { TrackSet } from '@m7s/core';
import { rtpCanSend, sdpMediaOfTrack, TrackConfig, writeSdp } from '@m7s/media';
import { rtpPayloadType } from './rtsp-play-sink';

export interface DescribedTrack {
  config: TrackConfig;
  control: string;
}

/** The tracks a DESCRIBE offers: video first, then audio, each with a trackID control; codecs RTP cannot carry here are left out. */
export function describeTracks(tracks: TrackSet): DescribedTrack[] {
  const out: DescribedTrack[] = [];
  for (const track of [tracks.video, tracks.audio]) {
    if (track && rtpCanSend(track.config)) out.push({ config: track.config, control: `trackID=${out.length}` });
  }
  return out;
}

/** The SDP of a DESCRIBE answer (or of our ANNOUNCE when pushing). */
export function sessionSdp(tracks: readonly DescribedTrack[], address: string, name: string): string {
  const ip4 = !address.includes(':') || address.startsWith('::ffff:');
  const ip = address.replace(/^::ffff:/, '') || '0.0.0.0';
  return writeSdp({
    version: 0,
    origin: { username: '-', sessionId: String(Date.now()), sessionVersion: '1', netType: 'IN', addrType: ip4 ? 'IP4' : 'IP6', address: ip },
    name: name || 'm7s-nest',
    connection: { netType: 'IN', addrType: ip4 ? 'IP4' : 'IP6', address: ip4 ? '0.0.0.0' : '::' },
    bandwidths: [],
    timing: [{ start: 0, stop: 0 }],
    attributes: [{ name: 'tool', value: 'm7s-nest' }, { name: 'range', value: 'npt=0-' }, { name: 'control', value: '*' }],
    media: tracks.map((t) => sdpMediaOfTrack(t.config, rtpPayloadType(t.config), t.control)),
  });
}
