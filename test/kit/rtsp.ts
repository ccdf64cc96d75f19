import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnTracked, stopTracked, Tracked } from './process';
import { portAccepts, waitFor } from './wait';

/**
 * A camera stand-in nobody here wrote: GStreamer's RTSP server (gst-rtsp-server through Python GI) serving a
 * live H.264 test picture with G.711 A-law audio at rtsp://127.0.0.1:port/cam, as IP cameras do, and H.265
 * with AAC in MP4A-LATM (RFC 6416, as cameras send AAC) at /hevc.
 */
const CAMERA_SCRIPT = `
import sys, gi
gi.require_version('Gst', '1.0')
gi.require_version('GstRtspServer', '1.0')
from gi.repository import Gst, GstRtspServer, GLib
Gst.init(None)
server = GstRtspServer.RTSPServer()
server.set_address('127.0.0.1')
server.set_service(sys.argv[1])
factory = GstRtspServer.RTSPMediaFactory()
factory.set_launch('( videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=25/1 '
  '! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=25 bitrate=500 ! video/x-h264,profile=baseline '
  '! rtph264pay name=pay0 pt=96 config-interval=1 '
  'audiotestsrc is-live=true wave=sine freq=440 ! audio/x-raw,rate=8000,channels=1 ! alawenc ! rtppcmapay name=pay1 pt=8 )')
factory.set_shared(True)
server.get_mount_points().add_factory('/cam', factory)
hevc = GstRtspServer.RTSPMediaFactory()
hevc.set_launch('( videotestsrc is-live=true ! video/x-raw,format=I420,width=320,height=240,framerate=25/1 '
  '! x265enc tune=zerolatency speed-preset=ultrafast key-int-max=25 ! rtph265pay name=pay0 pt=96 config-interval=1 '
  'audiotestsrc is-live=true ! audio/x-raw,rate=48000,channels=2 ! avenc_aac ! aacparse ! rtpmp4apay name=pay1 pt=97 )')
hevc.set_shared(True)
server.get_mount_points().add_factory('/hevc', hevc)
server.attach(None)
print('ready', flush=True)
GLib.MainLoop().run()
`;

export interface RtspCamera {
  url: string;
  process: Tracked;
  stop: () => Promise<void>;
}

export async function startRtspCamera(port: number): Promise<RtspCamera> {
  const dir = mkdtempSync(join(tmpdir(), 'm7s-camera-'));
  const script = join(dir, 'camera.py');
  writeFileSync(script, CAMERA_SCRIPT);
  const process = spawnTracked('/usr/bin/python3', [script, String(port)]);
  try {
    await waitFor(() => portAccepts(port), `the GStreamer RTSP camera on ${port}`, 20_000);
  } catch (error) {
    await stopTracked(process);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `rtsp://127.0.0.1:${port}/cam`,
    process,
    stop: async () => {
      await stopTracked(process);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
