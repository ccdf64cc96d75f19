#!/bin/sh
# Regenerates the binary fixtures of libs/media specs (ffmpeg 5.1 with libx264, libx265, libaom,
# libvpx, libmp3lame) and records what ffprobe says about each in probe.json.
set -e
cd "$(dirname "$0")"
FF="ffmpeg -hide_banner -loglevel error -y"
SRC="-f lavfi -i testsrc2=size=%s:rate=%s"
v() { # name size rate frames args...
  name=$1; size=$2; rate=$3; n=$4; shift 4
  $FF -f lavfi -i "testsrc2=size=$size:rate=$rate" -frames:v "$n" "$@" "$name"
}
v h264-baseline-320x240.h264 320x240 25 3 -c:v libx264 -profile:v baseline -level 3.0 -pix_fmt yuv420p
v h264-main-176x144.h264 176x144 30 3 -c:v libx264 -profile:v main -level 2.1 -pix_fmt yuv420p
v h264-high-640x360.h264 640x360 30 3 -c:v libx264 -profile:v high -level 3.1 -pix_fmt yuv420p
v h264-high10-352x288.h264 352x288 24 3 -c:v libx264 -profile:v high10 -pix_fmt yuv420p10le
v h264-high422-320x180.h264 320x180 25 3 -c:v libx264 -profile:v high422 -pix_fmt yuv422p
v h264-high444-322x242.h264 322x242 25 3 -c:v libx264 -profile:v high444 -pix_fmt yuv444p
v h264-interlaced-720x576.h264 720x576 25 2 -c:v libx264 -flags +ildct+ilme -x264opts tff=1 -pix_fmt yuv420p
v h265-main-640x360.h265 640x360 30 3 -c:v libx265 -x265-params log-level=none -profile:v main -pix_fmt yuv420p
v h265-main10-352x288.h265 352x288 24 3 -c:v libx265 -x265-params log-level=none -profile:v main10 -pix_fmt yuv420p10le
v h265-main-642x362.h265 642x362 25 3 -c:v libx265 -x265-params log-level=none:level-idc=4.1:high-tier=1 -pix_fmt yuv420p
v h265-rext444-320x240.h265 320x240 25 2 -c:v libx265 -x265-params log-level=none -pix_fmt yuv444p
v av1-320x240.obu 320x240 25 3 -c:v libaom-av1 -cpu-used 8 -b:v 200k -pix_fmt yuv420p
v av1-10bit-192x108.obu 192x108 30 2 -c:v libaom-av1 -cpu-used 8 -b:v 100k -pix_fmt yuv420p10le
v vp9-320x240.ivf 320x240 25 3 -c:v libvpx-vp9 -deadline realtime -b:v 200k -pix_fmt yuv420p
v vp9-profile1-160x90.ivf 160x90 25 2 -c:v libvpx-vp9 -deadline realtime -b:v 100k -pix_fmt yuv444p
a() { # name args...
  name=$1; shift
  $FF -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=0.2" "$@" "$name"
}
a aac-lc-44100-stereo.adts -ac 2 -ar 44100 -c:a aac -b:a 96k
a aac-lc-48000-mono.adts -ac 1 -ar 48000 -c:a aac -b:a 64k
a aac-lc-22050-6ch.adts -ac 6 -ar 22050 -c:a aac -b:a 96k
a opus-stereo.opus -ac 2 -c:a libopus -b:a 64k
# FLV files: H.264 + AAC, H.264 + MP3, H.264 + G.711
$FF -f lavfi -i testsrc2=size=320x240:rate=25 -f lavfi -i sine=frequency=440:sample_rate=44100 -t 0.5 \
  -c:v libx264 -profile:v main -g 5 -bf 2 -pix_fmt yuv420p -c:a aac -ac 2 -b:a 64k h264-aac.flv
$FF -f lavfi -i testsrc2=size=160x120:rate=25 -f lavfi -i sine=frequency=440:sample_rate=44100 -t 0.3 \
  -c:v libx264 -pix_fmt yuv420p -c:a libmp3lame -ac 1 -b:a 64k h264-mp3.flv
$FF -f lavfi -i sine=frequency=440:sample_rate=8000 -t 0.3 -c:a pcm_alaw -ac 1 alaw.flv
$FF -f lavfi -i sine=frequency=440:sample_rate=8000 -t 0.3 -c:a pcm_mulaw -ac 1 mulaw.flv

# MP4 files whose hvcC / av1C / vpcC records (written by ffmpeg) the specs compare against
v h265-main-640x360.mp4 640x360 30 1 -c:v libx265 -x265-params log-level=none -tag:v hvc1 -pix_fmt yuv420p
v h265-main10-352x288.mp4 352x288 24 1 -c:v libx265 -x265-params log-level=none -tag:v hvc1 -pix_fmt yuv420p10le
v av1-320x240.mp4 320x240 25 1 -c:v libaom-av1 -cpu-used 8 -b:v 200k -pix_fmt yuv420p
v vp9-320x240.mp4 320x240 25 1 -c:v libvpx-vp9 -deadline realtime -b:v 200k -pix_fmt yuv420p

# what ffprobe says
{
  echo "{"
  first=1
  for f in *.h264 *.h265 *.obu *.ivf *.adts *.opus *.flv *.mp4; do
    [ $first = 1 ] || echo ","
    first=0
    printf '"%s": ' "$f"
    ffprobe -v error -show_entries stream=codec_name,profile,level,width,height,r_frame_rate,pix_fmt,sample_rate,channels,field_order -of json "$f" | tr -d '\n'
  done
  echo "}"
} > probe.json
