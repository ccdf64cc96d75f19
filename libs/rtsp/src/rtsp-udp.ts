import { createSocket, Socket } from 'node:dgram';

/** An RTP socket on an even port and its RTCP socket on the next one (RFC 3550 11). */
export interface UdpPortPair {
  rtp: Socket;
  rtcp: Socket;
  rtpPort: number;
  rtcpPort: number;
  close(): void;
}

function bind(socket: Socket, port: number, host: string | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const onError = () => resolve(false);
    socket.once('error', onError);
    socket.bind({ port, address: host, exclusive: true }, () => {
      socket.off('error', onError);
      resolve(true);
    });
  });
}

/**
 * Hands out RTP/RTCP port pairs from a range, trying the next pair when one is taken (by another session,
 * another process or a test running beside this one).
 */
export class UdpPortAllocator {
  private cursor: number;

  constructor(
    private readonly min: number,
    private readonly max: number,
    private readonly host?: string,
  ) {
    this.cursor = min + (min % 2);
  }

  async allocate(): Promise<UdpPortPair> {
    const first = this.min + (this.min % 2);
    const pairs = Math.max(0, Math.floor((this.max - first + 1) / 2));
    for (let i = 0; i < pairs; i++) {
      const port = this.cursor;
      this.cursor = port + 2 > this.max - 1 ? first : port + 2;
      const rtp = createSocket({ type: 'udp4' });
      if (!(await bind(rtp, port, this.host))) {
        rtp.close();
        continue;
      }
      const rtcp = createSocket({ type: 'udp4' });
      if (!(await bind(rtcp, port + 1, this.host))) {
        rtp.close();
        rtcp.close();
        continue;
      }
      let closed = false;
      return {
        rtp,
        rtcp,
        rtpPort: port,
        rtcpPort: port + 1,
        close: () => {
          if (closed) return;
          closed = true;
          rtp.close();
          rtcp.close();
        },
      };
    }
    throw new Error(`no free UDP port pair in ${this.min}-${this.max}`);
  }
}
