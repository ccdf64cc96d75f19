import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';

const claimed = new WeakSet<Duplex>();

/** A module that takes over a WebSocket (or other) upgrade calls this before answering it. */
export function claimUpgrade(socket: Duplex): void {
  claimed.add(socket);
}

/**
 * Upgrade requests that no module claims get a 404 and are closed, instead of holding a socket open
 * forever. Install once, after the modules added their own 'upgrade' listeners.
 */
export function refuseUnclaimedUpgrades(server: Server): void {
  server.on('upgrade', (_req, socket: Duplex) => {
    setImmediate(() => {
      if (claimed.has(socket) || socket.destroyed) return;
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      setTimeout(() => socket.destroy(), 1000).unref();
    });
  });
}
