import type { Logger } from '@nestjs/common';
import type { Server } from 'node:net';
import { parseListen } from '../config/duration';

/**
 * Starts a TCP (or TLS) listener on a config address (":1935", "127.0.0.1:8554"). Resolves once it
 * listens; a bind error rejects (the server does not start); later errors are logged.
 */
export function listenOn(server: Server, address: string, protocol: string, logger: Logger): Promise<void> {
  const { host, port } = parseListen(address);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      server.on('error', (error) => logger.error({ msg: `${protocol} listener error`, error: error.message }));
      logger.log({ msg: `${protocol} listening`, address });
      resolve();
    });
  });
}
