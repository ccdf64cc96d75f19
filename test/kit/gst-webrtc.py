#!/usr/bin/python3
"""A WHIP publisher or WHEP player built on GStreamer's webrtcbin (a WebRTC stack nobody here wrote).

usage: gst-webrtc.py publish URL [h265|h264] [--no-audio]
       gst-webrtc.py play URL [h265|h264|h265-main10][,...] [--no-audio]

Speaks one JSON object per line on stdout: offer, answer (201), refused (4xx/5xx, exit 2), connected, track,
sent (publisher) or frame/audio (player, decoded), deleted, error (exit 1), exit. No trickle: the offer goes out
once ICE gathering is complete. ICE on 127.0.0.1 only; no STUN (webrtcbin's default stun-server is none).
SIGTERM (or SIGINT) DELETEs the session resource and exits 0.
"""
import json
import signal
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GstWebRTC', '1.0')
gi.require_version('GstSdp', '1.0')
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402

FRAME_EVERY = 5
AUDIO_EVERY = 25
HTTP_TIMEOUT = 30

ENCODERS = {
    'h265': 'x265enc tune=zerolatency speed-preset=ultrafast key-int-max=25 bitrate=500 '
            '! video/x-h265,profile=main ! rtph265pay config-interval=-1 pt=96 aggregate-mode=zero-latency',
    'h264': 'x264enc tune=zerolatency speed-preset=ultrafast key-int-max=25 bitrate=500 '
            '! video/x-h264,profile=constrained-baseline ! rtph264pay config-interval=-1 pt=96 aggregate-mode=zero-latency',
}
# What a player offers per codec (webrtcbin writes these fields as rtpmap/fmtp/rtcp-fb).
PLAY_CAPS = {
    'h265': 'application/x-rtp,media=video,encoding-name=H265,clock-rate=90000',
    'h265-main10': 'application/x-rtp,media=video,encoding-name=H265,clock-rate=90000,profile-id=(string)2',
    'h264': 'application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,'
            'packetization-mode=(string)1,profile-level-id=(string)42e01f,level-asymmetry-allowed=(string)1',
}
FEEDBACK = 'rtcp-fb-nack=(boolean)true,rtcp-fb-nack-pli=(boolean)true,rtcp-fb-ccm-fir=(boolean)true'
OPUS_CAPS = 'application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,encoding-params=(string)2,payload=111'
DECODERS = {
    'H265': 'rtph265depay ! h265parse ! avdec_h265',
    'H264': 'rtph264depay ! h264parse ! avdec_h264',
    'OPUS': 'rtpopusdepay ! opusdec',
}

out_lock = threading.Lock()


def emit(event, **fields):
    with out_lock:
        sys.stdout.write(json.dumps({'event': event, **fields}) + '\n')
        sys.stdout.flush()


class Client:
    def __init__(self, mode, url, codecs, audio):
        self.mode = mode
        self.url = url
        self.codecs = codecs
        self.audio = audio
        self.location = None
        self.offered = False
        self.sent = False
        self.send_lock = threading.Lock()
        self.exit_code = 0
        self.loop = GLib.MainLoop()
        self.counts = {'video': 0, 'audio': 0}
        self.pipeline = Gst.Pipeline.new('client')
        self.webrtc = Gst.ElementFactory.make('webrtcbin', 'webrtc')
        self.webrtc.set_property('bundle-policy', GstWebRTC.WebRTCBundlePolicy.MAX_BUNDLE)
        # Held for the client's life: PyGObject takes over webrtcbin's floating reference to it and would free it.
        self.ice = self.webrtc.get_property('ice-agent')
        self.ice.set_property('ice-tcp', False)
        # With a local address given, libnice gathers on it alone (it skips loopback otherwise).
        self.ice.emit('add-local-ip-address', '127.0.0.1')
        self.pipeline.add(self.webrtc)
        self.webrtc.connect('on-negotiation-needed', self.on_negotiation_needed)
        self.webrtc.connect('notify::ice-gathering-state', lambda *_: self.maybe_send())
        self.webrtc.connect('notify::connection-state', self.on_connection_state)
        self.webrtc.connect('pad-added', self.on_pad_added)
        if mode == 'publish':
            self.build_publisher()
        else:
            self.build_player()
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect('message::error', self.on_bus_error)

    # --- media ---

    def link_sending(self, bin_):
        self.pipeline.add(bin_)
        bin_.link(self.webrtc)
        pad = bin_.get_static_pad('src').get_peer()
        pad.get_property('transceiver').set_property('direction', GstWebRTC.WebRTCRTPTransceiverDirection.SENDONLY)

    def build_publisher(self):
        codec = self.codecs[0]
        video = Gst.parse_bin_from_description(
            'videotestsrc is-live=true pattern=ball ! video/x-raw,format=I420,width=320,height=240,framerate=25/1 '
            f'! {ENCODERS[codec]} name=pay ! queue', True)
        self.link_sending(video)
        pay = video.get_by_name('pay')
        pay.get_static_pad('sink').add_probe(Gst.PadProbeType.BUFFER, self.count_sent, 'video')
        if self.audio:
            audio = Gst.parse_bin_from_description(
                'audiotestsrc is-live=true wave=sine freq=440 ! audioconvert ! audioresample ! audio/x-raw,rate=48000,channels=2 '
                '! opusenc ! rtpopuspay pt=111 ! queue', True)
            self.link_sending(audio)

    def count_sent(self, _pad, info, kind):
        if info.get_buffer().has_flags(Gst.BufferFlags.HEADER):
            return Gst.PadProbeReturn.OK
        self.counts[kind] += 1
        n = self.counts[kind]
        if n == 1 or n % FRAME_EVERY == 0:
            emit('sent', kind=kind, count=n)
        return Gst.PadProbeReturn.OK

    def build_player(self):
        caps = Gst.Caps.new_empty()
        for i, codec in enumerate(self.codecs):
            caps.append(Gst.Caps.from_string(f'{PLAY_CAPS[codec]},payload={96 + i},{FEEDBACK}'))
        self.webrtc.emit('add-transceiver', GstWebRTC.WebRTCRTPTransceiverDirection.RECVONLY, caps)
        if self.audio:
            self.webrtc.emit('add-transceiver', GstWebRTC.WebRTCRTPTransceiverDirection.RECVONLY, Gst.Caps.from_string(OPUS_CAPS))

    def on_pad_added(self, _webrtc, pad):
        if pad.get_direction() != Gst.PadDirection.SRC:
            return
        s = pad.get_current_caps().get_structure(0)
        kind = s.get_string('media')
        encoding = (s.get_string('encoding-name') or '').upper()
        emit('track', kind=kind, codec=encoding)
        if encoding not in DECODERS:
            sink = Gst.ElementFactory.make('fakesink')
            self.pipeline.add(sink)
            sink.sync_state_with_parent()
            pad.link(sink.get_static_pad('sink'))
            return
        decode = Gst.parse_bin_from_description(f'queue ! {DECODERS[encoding]} ! fakesink name=sink sync=false', True)
        self.pipeline.add(decode)
        decode.sync_state_with_parent()
        decode.get_by_name('sink').get_static_pad('sink').add_probe(Gst.PadProbeType.BUFFER, self.count_decoded, (kind, encoding))
        pad.link(decode.get_static_pad('sink'))

    def count_decoded(self, pad, _info, what):
        kind, encoding = what
        self.counts[kind] += 1
        n = self.counts[kind]
        if kind == 'video' and (n == 1 or n % FRAME_EVERY == 0):
            s = pad.get_current_caps().get_structure(0)
            emit('frame', kind=kind, codec=encoding, count=n, width=s.get_int('width')[1], height=s.get_int('height')[1])
        elif kind == 'audio' and (n == 1 or n % AUDIO_EVERY == 0):
            emit('audio', codec=encoding, count=n)
        return Gst.PadProbeReturn.OK

    # --- signalling ---

    def on_negotiation_needed(self, _webrtc):
        if self.offered:
            return
        self.offered = True
        promise = Gst.Promise.new_with_change_func(self.on_offer_created, None)
        self.webrtc.emit('create-offer', None, promise)

    def on_offer_created(self, promise, _data):
        promise.wait()
        reply = promise.get_reply()
        offer = reply.get_value('offer') if reply else None
        if offer is None:
            self.fail('create-offer gave no offer' + (f': {reply.to_string()}' if reply else ''))
            return
        done = Gst.Promise.new_with_change_func(lambda *_: self.maybe_send(), None)
        self.webrtc.emit('set-local-description', offer, done)

    def maybe_send(self):
        # Called from webrtcbin's threads: the gathering-state notify and the set-local-description promise.
        with self.send_lock:
            if self.sent or self.webrtc.get_property('ice-gathering-state') != GstWebRTC.WebRTCICEGatheringState.COMPLETE:
                return
            local = self.webrtc.get_property('local-description')
            if local is None:
                return
            self.sent = True
        sdp = local.sdp.as_text()
        emit('offer', sdp=sdp)
        threading.Thread(target=self.post, args=(sdp,), daemon=True).start()

    def post(self, sdp):
        request = urllib.request.Request(self.url, data=sdp.encode(), method='POST', headers={'Content-Type': 'application/sdp'})
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
                status = response.status
                body = response.read().decode()
                location = response.headers.get('Location')
        except urllib.error.HTTPError as error:
            emit('refused', status=error.code, body=error.read().decode(errors='replace'))
            GLib.idle_add(self.quit, 2)
            return
        except Exception as error:  # connection refused, timeout
            GLib.idle_add(self.fail, f'POST {self.url}: {error}')
            return
        if status != 201 or not location:
            GLib.idle_add(self.fail, f'POST answered {status} with Location {location!r}')
            return
        self.location = urllib.parse.urljoin(self.url, location)
        emit('answer', status=status, location=self.location, sdp=body)
        GLib.idle_add(self.set_answer, body)

    def set_answer(self, text):
        result, message = GstSdp.SDPMessage.new_from_text(text)
        if result != GstSdp.SDPResult.OK:
            self.fail('the answer does not parse as SDP')
            return False
        answer = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, message)
        self.webrtc.emit('set-remote-description', answer, Gst.Promise.new())
        return False

    def on_connection_state(self, *_):
        state = self.webrtc.get_property('connection-state')
        if state == GstWebRTC.WebRTCPeerConnectionState.CONNECTED:
            emit('connected')
        elif state == GstWebRTC.WebRTCPeerConnectionState.FAILED:
            GLib.idle_add(self.fail, 'the peer connection failed')

    # --- the end ---

    def on_bus_error(self, _bus, message):
        error, debug = message.parse_error()
        self.fail(f'{message.src.get_name()}: {error.message} ({debug})')

    def fail(self, message):
        emit('error', message=message)
        self.quit(1)
        return False

    def delete(self):
        if not self.location:
            return
        location, self.location = self.location, None
        try:
            with urllib.request.urlopen(urllib.request.Request(location, method='DELETE'), timeout=10) as response:
                emit('deleted', status=response.status)
        except urllib.error.HTTPError as error:
            emit('deleted', status=error.code)
        except Exception as error:
            emit('deleted', status=0, message=str(error))

    def quit(self, code=0):
        if self.exit_code == 0:
            self.exit_code = code
        self.loop.quit()
        return False

    def run(self):
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGTERM, self.quit, 0)
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGINT, self.quit, 0)
        if self.pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            self.fail('the pipeline does not start')
        else:
            self.loop.run()
        self.delete()
        self.pipeline.set_state(Gst.State.NULL)
        emit('exit', code=self.exit_code)
        return self.exit_code


def main(argv):
    args = [a for a in argv[1:] if not a.startswith('--')]
    if len(args) < 2 or args[0] not in ('publish', 'play'):
        sys.stderr.write(__doc__)
        return 64
    mode, url = args[0], args[1]
    codecs = (args[2] if len(args) > 2 else 'h265').lower().split(',')
    known = ENCODERS if mode == 'publish' else PLAY_CAPS
    if any(c not in known for c in codecs) or (mode == 'publish' and len(codecs) != 1):
        sys.stderr.write(f'unknown codec list {codecs}\n')
        return 64
    Gst.init(None)
    return Client(mode, url, codecs, '--no-audio' not in argv).run()


if __name__ == '__main__':
    sys.exit(main(sys.argv))
