import { Controller, Delete, Get, Param } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiProperty, ApiTags } from '@nestjs/swagger';
import { SuccessDto } from '@m7s/api';
import { Permission, RequirePermission } from '@m7s/auth';
import { AppError } from '@m7s/core';
import type { WebrtcSessionInfo } from './webrtc-session';
import { WebrtcSessions } from './webrtc-sessions.service';

class WebrtcCountersDto {
  @ApiProperty({ description: 'Picture loss indications from the player (WHEP)' }) pliReceived!: number;
  @ApiProperty({ description: 'Full intra requests from the player (WHEP)' }) firReceived!: number;
  @ApiProperty({ description: 'Generic NACKs from the player (WHEP; werift retransmits from its history)' }) nackReceived!: number;
  @ApiProperty({ description: 'PLIs sent to the publisher (WHIP)' }) pliSent!: number;
  @ApiProperty({ description: 'NACKs sent to the publisher (WHIP)' }) nackSent!: number;
  @ApiProperty({ description: 'Key frames asked of the publisher for this player (WHEP) or by players of this publisher (WHIP)' }) keyFrameRequests!: number;
  @ApiProperty({ description: 'Picture losses answered by resending the GOP cache (WHEP)' }) gopResends!: number;
  @ApiProperty({ description: 'RTP packets that did not read (WHIP) or could not be sent (WHEP)' }) badPackets!: number;
}

class WebrtcSessionDto implements WebrtcSessionInfo {
  @ApiProperty({ description: 'Session id (the resource /webrtc/session/{id})' }) id!: string;
  @ApiProperty({ enum: ['push', 'play'], description: 'push: WHIP publisher; play: WHEP player' }) kind!: 'push' | 'play';
  @ApiProperty({ example: 'live/cam1' }) streamPath!: string;
  @ApiProperty({ description: 'HTTP client of the offer', example: '127.0.0.1:50000' }) remoteAddress!: string;
  @ApiProperty({ enum: ['new', 'connecting', 'connected', 'disconnected', 'closed'] }) state!: 'new' | 'connecting' | 'connected' | 'disconnected' | 'closed';
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) connectedAt!: string | null;
  @ApiProperty({ description: 'SRTP/SRTCP/DTLS bytes sent over the selected candidate pair' }) bytesSent!: number;
  @ApiProperty() bytesReceived!: number;
  @ApiProperty() packetsSent!: number;
  @ApiProperty() packetsReceived!: number;
  @ApiProperty({ description: 'Datagrams dropped at the ICE sockets: not authenticated, or from an address that did no ICE check' }) droppedDatagrams!: number;
  @ApiProperty({ type: WebrtcCountersDto }) counters!: WebrtcCountersDto;
  @ApiProperty({ description: 'Receiver estimated max bitrate (REMB) of the player, bit/s; 0 = none' }) rembBps!: number;
  @ApiProperty({ description: 'Bitrate the transport-wide congestion feedback (TWCC) allows, bit/s; 0 = none' }) twccBps!: number;
  @ApiProperty({ nullable: true, type: String, example: 'udp 127.0.0.1:9000 <-> 127.0.0.1:53211' }) selectedCandidatePair!: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'H264/90000 profile-level-id=42e01f' }) video!: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'OPUS/48000/2' }) audio!: string | null;
}

class WebrtcSessionListDto {
  @ApiProperty() total!: number;
  @ApiProperty({ type: [WebrtcSessionDto] }) list!: WebrtcSessionDto[];
}

const ID_PARAM = { name: 'id', description: 'Session id (from the list)', schema: { type: 'string', pattern: '^[0-9a-f]{32}$' } } as const;

@ApiTags('webrtc')
@Controller('api/webrtc')
export class WebrtcApiController {
  constructor(private readonly sessions: WebrtcSessions) {}

  @Get('sessions')
  @RequirePermission(Permission.Read)
  @ApiOperation({ summary: 'WebRTC sessions of this node (WHIP publishers and WHEP players) with their state, traffic and feedback counters' })
  @ApiOkResponse({ type: WebrtcSessionListDto })
  list(): WebrtcSessionListDto {
    const list = this.sessions.list().map((s) => s.info());
    return { total: list.length, list };
  }

  @Delete('sessions/:id')
  @RequirePermission(Permission.ControlStreams)
  @ApiParam(ID_PARAM)
  @ApiOperation({ summary: 'End a WebRTC session (its publisher or player goes with it)' })
  @ApiOkResponse({ type: SuccessDto })
  @ApiNotFoundResponse({ description: 'No such session (NOT_FOUND)' })
  close(@Param('id') id: string): SuccessDto {
    if (!this.sessions.close(id, 'closed by an operator')) throw new AppError('NOT_FOUND', `no WebRTC session ${id}`);
    return { success: true };
  }
}
