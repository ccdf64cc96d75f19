import { createServer, Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';

const ROOT = join(__dirname, '../..');

/** Debian's Chromium, headless, driven by playwright-core (a test tool's own browser download does not work here). */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

const PLAYER_PAGE = `<!doctype html>
<html><body>
<video id="v" muted autoplay playsinline></video>
<script src="/mpegts.js"></script>
<script>
  const params = new URLSearchParams(location.search);
  window.playerErrors = [];
  const player = mpegts.createPlayer({ type: 'flv', isLive: true, url: params.get('url') }, { enableStashBuffer: false });
  player.on(mpegts.Events.ERROR, (type, detail, info) => window.playerErrors.push(type + ' ' + detail + ' ' + JSON.stringify(info)));
  player.attachMediaElement(document.getElementById('v'));
  player.load();
  player.play();
</script>
</body></html>`;

/**
 * A page server for browser tests: `/player.html?url=...` plays an HTTP-FLV or WS-FLV url with mpegts.js
 * (the npm package, served as is).
 */
export async function startPageServer(): Promise<{ url: (page: string) => string; close: () => Promise<void> }> {
  const mpegts = readFileSync(join(ROOT, 'node_modules/mpegts.js/dist/mpegts.js'));
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/mpegts.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(mpegts);
    } else if (path === '/player.html') {
      res.writeHead(200, { 'Content-Type': 'text/html' }).end(PLAYER_PAGE);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: (page) => `http://127.0.0.1:${port}/${page}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
