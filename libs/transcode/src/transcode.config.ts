import { IsBoolean, IsString, Matches, Min } from 'class-validator';
import { ByteSize, Duration } from '@m7s/core';

/** `transcode` section: audio transcoded on demand for players that cannot carry a stream's codec. */
export class TranscodeConfig {
  /** Transcode at all; off, such players get no audio. */
  @IsBoolean() enable = true;
  /** The ffmpeg binary (a name looked up in PATH, or a path). */
  @IsString() ffmpeg = 'ffmpeg';
  /** Bitrate of the Opus made from AAC or G.711 (ffmpeg -b:a). */
  @Matches(/^\d+(\.\d+)?[kKmM]?$/) opusBitrate = '64k';
  /** Bitrate of the AAC made from Opus or G.711. */
  @Matches(/^\d+(\.\d+)?[kKmM]?$/) aacBitrate = '128k';
  /** First wait before restarting an ffmpeg that died; doubles while it keeps dying. */
  @Duration() @Min(10) restartBackoff = 1000;
  /** Longest wait between two restarts. */
  @Duration() @Min(10) maxRestartBackoff = 30_000;
  /** Bytes written to an ffmpeg and not yet read by it; past this, input is dropped (it never holds the publisher up). */
  @ByteSize() @Min(1024) maxBacklog = 256 * 1024;
}
