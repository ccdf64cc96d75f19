/** A STUN/TURN server as RTCIceServer describes it. */
export interface IceServer {
  urls: readonly string[];
  username?: string;
  credential?: string;
}

/** stun:, stuns:, turn: and turns: URIs (RFC 7064, RFC 7065) without characters that would break a Link header. */
const ICE_URI = /^(stun|stuns|turn|turns):[^\s<>",;]+$/i;

export function isIceServerUrl(url: string): boolean {
  return ICE_URI.test(url);
}

function quoted(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * The Link header values announcing ICE servers to a WHIP/WHEP client (RFC 9725 4.6): one per URL,
 * `<turn:host?transport=udp>; rel="ice-server"; username="u"; credential="p"; credential-type="password"`.
 * URLs that are not STUN/TURN URIs are left out.
 */
export function iceServerLinks(servers: readonly IceServer[]): string[] {
  const links: string[] = [];
  for (const server of servers) {
    for (const url of server.urls) {
      if (!isIceServerUrl(url)) continue;
      let link = `<${url}>; rel="ice-server"`;
      if (/^turns?:/i.test(url) && server.username) {
        link += `; username=${quoted(server.username)}; credential=${quoted(server.credential ?? '')}; credential-type="password"`;
      }
      links.push(link);
    }
  }
  return links;
}
