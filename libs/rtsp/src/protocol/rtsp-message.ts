/**
 * RTSP message framing (RFC 2326 section 4 and 10.12, RFC 7826 section 8 and 14): an incremental decoder for
 * the TCP byte stream of either side (requests, responses and `$`-interleaved binary frames mixed), the
 * serializers, and the error type every parser of this folder throws.
 */

/**
 * The one error type of the RTSP protocol layer: every parser here throws only this on bad input, so the
 * connection can answer with `status` and close, and tell a malformed peer from a bug.
 *
 * Codes used by this folder: HEADER_TOO_LARGE, TOO_MANY_HEADERS, BAD_REQUEST_LINE, BAD_STATUS_LINE,
 * UNSUPPORTED_VERSION, BAD_HEADER, BAD_CONTENT_LENGTH, BODY_TOO_LARGE, INTERLEAVED_TOO_LARGE, BAD_CSEQ,
 * BAD_SESSION, BAD_TRANSPORT, INVALID_RANGE, BAD_URL, UNSUPPORTED_AUTH, BAD_ARGUMENT (a serializer or
 * constructor given something it cannot use: a programming error, status 500).
 */
export class RtspProtocolError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** The RTSP status to answer with (400, 413, 431, 454, 457, 461, 505...). */
    readonly status: number,
  ) {
    super(message);
    this.name = 'RtspProtocolError';
  }
}

/** A header value as callers give it; arrays become one header line per element. */
export type RtspHeaderValue = string | number | readonly (string | number)[] | undefined;
export type RtspHeaderRecord = Record<string, RtspHeaderValue>;

/**
 * Message headers: names compared case-insensitively and written as first given, order preserved, a name
 * may appear several times (WWW-Authenticate with Digest and Basic challenges).
 */
export class RtspHeaders {
  private readonly list: [name: string, value: string][] = [];

  /** Headers from a record; `undefined` values are skipped, arrays give one line per element. */
  static from(record: RtspHeaderRecord): RtspHeaders {
    const headers = new RtspHeaders();
    for (const [name, value] of Object.entries(record)) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const v of value as readonly (string | number)[]) headers.append(name, v);
      else headers.append(name, value as string | number);
    }
    return headers;
  }

  /** The first value of `name`. */
  get(name: string): string | undefined {
    const key = name.toLowerCase();
    for (const [n, v] of this.list) if (n.toLowerCase() === key) return v;
    return undefined;
  }

  /** Every value of `name`, in order. */
  getAll(name: string): string[] {
    const key = name.toLowerCase();
    return this.list.filter(([n]) => n.toLowerCase() === key).map(([, v]) => v);
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Replaces every value of `name` by this one, at the place of the first (or at the end). */
  set(name: string, value: string | number): this {
    const key = name.toLowerCase();
    const at = this.list.findIndex(([n]) => n.toLowerCase() === key);
    if (at < 0) {
      this.list.push([name, String(value)]);
      return this;
    }
    this.list[at] = [name, String(value)];
    for (let i = this.list.length - 1; i > at; i--) if (this.list[i][0].toLowerCase() === key) this.list.splice(i, 1);
    return this;
  }

  append(name: string, value: string | number): this {
    this.list.push([name, String(value)]);
    return this;
  }

  delete(name: string): this {
    const key = name.toLowerCase();
    for (let i = this.list.length - 1; i >= 0; i--) if (this.list[i][0].toLowerCase() === key) this.list.splice(i, 1);
    return this;
  }

  /** Number of header lines. */
  get size(): number {
    return this.list.length;
  }

  /** [name as written, value] pairs in order. */
  *entries(): IterableIterator<[string, string]> {
    for (const [n, v] of this.list) yield [n, v];
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}

export interface RtspRequest {
  method: string;
  uri: string;
  /** `RTSP/1.0` or `RTSP/2.0`. */
  version: string;
  headers: RtspHeaders;
  body: Buffer;
}

export interface RtspResponse {
  version: string;
  statusCode: number;
  reason: string;
  headers: RtspHeaders;
  body: Buffer;
}

/** One unit of the stream: a request, a response, or an interleaved binary frame (RFC 2326 10.12). */
export type RtspChunk =
  | { type: 'request'; message: RtspRequest }
  | { type: 'response'; message: RtspResponse }
  | { type: 'interleaved'; channel: number; data: Buffer };

export interface RtspDecoderLimits {
  /** Largest start line + header block, blank line included (default 8192). Over it: 431. */
  maxHeaderBytes?: number;
  /** Most header lines in one message (default 64). Over it: 431. */
  maxHeaders?: number;
  /** Largest Content-Length (default 65536). Over it: 413. */
  maxBodyBytes?: number;
  /** Largest interleaved frame payload (default 65535, the most its 16-bit length can say). */
  maxInterleavedBytes?: number;
}

export const DEFAULT_RTSP_DECODER_LIMITS: Required<RtspDecoderLimits> = {
  maxHeaderBytes: 8192,
  maxHeaders: 64,
  maxBodyBytes: 65536,
  maxInterleavedBytes: 65535,
};

const DOLLAR = 0x24;
const LF = 0x0a;
const CR = 0x0d;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) +(\S+) +([A-Za-z]+\/\d+\.\d+)$/;
const STATUS_LINE = /^(RTSP\/\d+\.\d+) +(\d{3})(?: +(.*))?$/;
const SUPPORTED_VERSIONS = new Set(['RTSP/1.0', 'RTSP/2.0']);

/** A unit whose announced bytes are still arriving: they are copied into `dest` (its exact size). */
interface Filling {
  dest: Buffer;
  filled: number;
}
type PendingMessage = Filling & { head: RtspChunk & { type: 'request' | 'response' } };
type PendingFrame = Filling & { channel: number };

/**
 * Incremental decoder of an RTSP connection's byte stream (either side: a line starting with `RTSP/` is a
 * response). Messages may be split anywhere across chunks or several may share a chunk; interleaved frames
 * (`$`, channel, 16-bit length, data) may come between them; the body length is Content-Length (none means
 * no body, RFC 2326 4.3); CRLF or bare LF line ends; empty lines between messages are skipped.
 *
 * Memory is bounded: at most maxHeaderBytes of an incomplete header block are kept (copied out of the
 * input), a partial body or frame is assembled into a buffer of its announced size. After a throw the state
 * is undefined: the caller answers with `error.status` and closes the connection.
 */
export class RtspDecoder {
  private readonly limits: Required<RtspDecoderLimits>;
  /** Unconsumed bytes of an incomplete header block or interleaved prefix (< maxHeaderBytes). */
  private stash: Buffer = Buffer.alloc(0);
  /** Where to resume the search for the end of the header block inside `stash`. */
  private scanFrom = 0;
  private message: PendingMessage | undefined;
  private frame: PendingFrame | undefined;

  constructor(limits: RtspDecoderLimits = {}) {
    this.limits = { ...DEFAULT_RTSP_DECODER_LIMITS };
    for (const key of Object.keys(DEFAULT_RTSP_DECODER_LIMITS) as (keyof RtspDecoderLimits)[]) {
      const v = limits[key];
      if (v !== undefined) {
        if (!Number.isInteger(v) || v < 0) throw new RtspProtocolError('BAD_ARGUMENT', `decoder limit ${key}=${v}`, 500);
        this.limits[key] = v;
      }
    }
  }

  /** Bytes held for an incomplete message or frame. */
  get bufferedBytes(): number {
    return this.stash.length + (this.message?.filled ?? 0) + (this.frame?.filled ?? 0);
  }

  /** Feeds bytes from the connection; returns the complete units they finish, in order. */
  push(chunk: Buffer): RtspChunk[] {
    const out: RtspChunk[] = [];
    let buf = chunk;
    let pos = 0;
    if (this.stash.length > 0) {
      buf = Buffer.concat([this.stash, chunk]);
      this.stash = Buffer.alloc(0);
    }
    while (pos < buf.length) {
      if (this.message) {
        pos = this.fill(this.message, buf, pos);
        if (this.message.filled < this.message.dest.length) break;
        out.push(this.message.head);
        this.message = undefined;
        continue;
      }
      if (this.frame) {
        pos = this.fill(this.frame, buf, pos);
        if (this.frame.filled < this.frame.dest.length) break;
        out.push({ type: 'interleaved', channel: this.frame.channel, data: this.frame.dest });
        this.frame = undefined;
        continue;
      }
      // between units: skip the empty lines some clients send as keep-alive or after a body
      if (this.scanFrom === 0) {
        while (pos < buf.length && (buf[pos] === CR || buf[pos] === LF)) pos++;
        if (pos >= buf.length) break;
      }
      if (buf[pos] === DOLLAR) {
        if (buf.length - pos < 4) break;
        const channel = buf[pos + 1];
        const length = buf.readUInt16BE(pos + 2);
        if (length > this.limits.maxInterleavedBytes) {
          throw new RtspProtocolError('INTERLEAVED_TOO_LARGE', `interleaved frame of ${length} bytes (limit ${this.limits.maxInterleavedBytes})`, 413);
        }
        pos += 4;
        if (buf.length - pos >= length) {
          // whole inside this chunk: hand out a view, no copy (the hot path of RTP over RTSP)
          out.push({ type: 'interleaved', channel, data: buf.subarray(pos, pos + length) });
          pos += length;
        } else {
          this.frame = { channel, dest: Buffer.allocUnsafe(length), filled: 0 };
        }
        continue;
      }
      const end = this.findHeaderEnd(buf, pos);
      if (end < 0) break;
      this.scanFrom = 0;
      const head = this.parseHead(buf.subarray(pos, end));
      pos = end;
      const length = this.contentLength(head.message.headers);
      if (length === 0) {
        out.push(head);
      } else if (buf.length - pos >= length) {
        head.message.body = Buffer.from(buf.subarray(pos, pos + length));
        pos += length;
        out.push(head);
      } else {
        head.message.body = Buffer.allocUnsafe(length);
        this.message = { head, dest: head.message.body, filled: 0 };
      }
    }
    if (pos < buf.length) {
      // only an incomplete header block or interleaved prefix is left: keep a copy, not a view of the chunk
      this.stash = Buffer.from(buf.subarray(pos));
      if (this.stash.length > this.limits.maxHeaderBytes && this.stash[0] !== DOLLAR) throw headerTooLarge(this.limits.maxHeaderBytes);
    }
    return out;
  }

  /** Copies what `buf` has of the unit's remaining bytes; returns the new read position. */
  private fill(target: Filling, buf: Buffer, pos: number): number {
    const n = Math.min(target.dest.length - target.filled, buf.length - pos);
    buf.copy(target.dest, target.filled, pos, pos + n);
    target.filled += n;
    return pos + n;
  }

  /**
   * The offset just past the blank line ending the header block that starts at `start`, or -1 when it has
   * not arrived yet. Throws when the block is (or already must be) over maxHeaderBytes.
   */
  private findHeaderEnd(buf: Buffer, start: number): number {
    const max = this.limits.maxHeaderBytes;
    const limit = Math.min(buf.length, start + max + 1);
    let i = start + this.scanFrom;
    while (i < limit) {
      const lf = buf.indexOf(LF, i);
      if (lf < 0 || lf >= limit) {
        i = limit;
        break;
      }
      // a blank line is "\n\n" or "\n\r\n"
      if (lf + 1 >= buf.length) {
        i = lf;
        break;
      }
      if (buf[lf + 1] === LF) return this.checkedEnd(start, lf + 2);
      if (buf[lf + 1] === CR) {
        if (lf + 2 >= buf.length) {
          i = lf;
          break;
        }
        if (buf[lf + 2] === LF) return this.checkedEnd(start, lf + 3);
      }
      i = lf + 1;
    }
    if (buf.length - start > max) throw headerTooLarge(max);
    this.scanFrom = i - start;
    return -1;
  }

  private checkedEnd(start: number, end: number): number {
    if (end - start > this.limits.maxHeaderBytes) throw headerTooLarge(this.limits.maxHeaderBytes);
    return end;
  }

  private parseHead(block: Buffer): RtspChunk & { type: 'request' | 'response' } {
    const lines = block.toString('utf8').split('\n');
    // the block ends with a blank line: drop the empty strings after the last two LFs
    while (lines.length > 0 && lines[lines.length - 1].replace(/\r$/, '') === '') lines.pop();
    const startLine = (lines.shift() ?? '').replace(/\r$/, '').trim();
    const pairs: [string, string][] = [];
    for (const raw of lines) {
      const line = raw.replace(/\r$/, '');
      if ((line.startsWith(' ') || line.startsWith('\t')) && pairs.length > 0) {
        // obsolete line folding (RFC 2326 4.2 allows it): a continuation of the previous value
        const last = pairs[pairs.length - 1];
        last[1] = `${last[1]} ${line.trim()}`.trim();
        continue;
      }
      const colon = line.indexOf(':');
      const name = colon > 0 ? line.slice(0, colon).trim() : '';
      if (!TOKEN.test(name)) throw new RtspProtocolError('BAD_HEADER', `malformed header line ${JSON.stringify(line.slice(0, 80))}`, 400);
      pairs.push([name, line.slice(colon + 1).trim()]);
      if (pairs.length > this.limits.maxHeaders) {
        throw new RtspProtocolError('TOO_MANY_HEADERS', `more than ${this.limits.maxHeaders} headers`, 431);
      }
    }
    const headers = new RtspHeaders();
    for (const [n, v] of pairs) headers.append(n, v);

    if (startLine.startsWith('RTSP/')) {
      const m = STATUS_LINE.exec(startLine);
      if (!m) throw new RtspProtocolError('BAD_STATUS_LINE', `malformed status line ${JSON.stringify(startLine.slice(0, 80))}`, 400);
      checkVersion(m[1]);
      return { type: 'response', message: { version: m[1], statusCode: Number(m[2]), reason: (m[3] ?? '').trim(), headers, body: EMPTY } };
    }
    const m = REQUEST_LINE.exec(startLine);
    if (!m) throw new RtspProtocolError('BAD_REQUEST_LINE', `malformed request line ${JSON.stringify(startLine.slice(0, 80))}`, 400);
    checkVersion(m[3]);
    return { type: 'request', message: { method: m[1], uri: m[2], version: m[3], headers, body: EMPTY } };
  }

  private contentLength(headers: RtspHeaders): number {
    const values = headers.getAll('content-length');
    if (values.length === 0) return 0;
    if (values.some((v) => v !== values[0]) || !/^\d+$/.test(values[0])) {
      throw new RtspProtocolError('BAD_CONTENT_LENGTH', `bad Content-Length ${JSON.stringify(values.join(', ').slice(0, 40))}`, 400);
    }
    const length = Number(values[0]);
    if (length > this.limits.maxBodyBytes) {
      throw new RtspProtocolError('BODY_TOO_LARGE', `body of ${values[0].slice(0, 20)} bytes (limit ${this.limits.maxBodyBytes})`, 413);
    }
    return length;
  }
}

const EMPTY = Buffer.alloc(0);

function headerTooLarge(max: number): RtspProtocolError {
  return new RtspProtocolError('HEADER_TOO_LARGE', `header block over ${max} bytes`, 431);
}

function checkVersion(version: string): void {
  if (!SUPPORTED_VERSIONS.has(version)) throw new RtspProtocolError('UNSUPPORTED_VERSION', `unsupported version ${version}`, 505);
}

/** Reason phrases of RFC 2326 section 7.1.1 (and RFC 6585's 431), for responses that give none. */
export const RTSP_STATUS_REASONS: Readonly<Record<number, string>> = {
  100: 'Continue',
  200: 'OK',
  201: 'Created',
  250: 'Low on Storage Space',
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Moved Temporarily',
  303: 'See Other',
  304: 'Not Modified',
  305: 'Use Proxy',
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  407: 'Proxy Authentication Required',
  408: 'Request Time-out',
  410: 'Gone',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Request Entity Too Large',
  414: 'Request-URI Too Large',
  415: 'Unsupported Media Type',
  431: 'Request Header Fields Too Large',
  451: 'Parameter Not Understood',
  452: 'Conference Not Found',
  453: 'Not Enough Bandwidth',
  454: 'Session Not Found',
  455: 'Method Not Valid in This State',
  456: 'Header Field Not Valid for Resource',
  457: 'Invalid Range',
  458: 'Parameter Is Read-Only',
  459: 'Aggregate Operation Not Allowed',
  460: 'Only Aggregate Operation Allowed',
  461: 'Unsupported Transport',
  462: 'Destination Unreachable',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Time-out',
  505: 'RTSP Version Not Supported',
  551: 'Option not supported',
};

const CLASS_REASONS: Record<number, string> = { 1: 'Informational', 2: 'Success', 3: 'Redirection', 4: 'Client Error', 5: 'Server Error' };

/** The reason phrase for a status code: RFC 2326's, else one for its class. */
export function rtspReason(statusCode: number): string {
  return RTSP_STATUS_REASONS[statusCode] ?? CLASS_REASONS[Math.floor(statusCode / 100)] ?? 'Unknown';
}

export interface RtspRequestInit {
  method: string;
  uri: string;
  headers: RtspHeaders | RtspHeaderRecord;
  body?: Buffer | string;
}

export interface RtspResponseInit {
  statusCode: number;
  /** Default: RFC 2326's phrase for the code. */
  reason?: string;
  headers: RtspHeaders | RtspHeaderRecord;
  body?: Buffer | string;
}

/** A request as RTSP/1.0 bytes; Content-Length is set from the body when one is given. */
export function serializeRequest(r: RtspRequestInit): Buffer {
  if (!TOKEN.test(r.method)) throw badArgument(`method ${JSON.stringify(r.method)}`);
  if (!/^[^\s]+$/.test(r.uri)) throw badArgument(`request URI ${JSON.stringify(r.uri)}`);
  return serialize(`${r.method} ${r.uri} RTSP/1.0`, r.headers, r.body);
}

/** A response as RTSP/1.0 bytes; Content-Length is set from the body when one is given. */
export function serializeResponse(r: RtspResponseInit): Buffer {
  if (!Number.isInteger(r.statusCode) || r.statusCode < 100 || r.statusCode > 999) throw badArgument(`status ${r.statusCode}`);
  const reason = r.reason ?? rtspReason(r.statusCode);
  if (/[\r\n]/.test(reason)) throw badArgument(`reason ${JSON.stringify(reason)}`);
  return serialize(`RTSP/1.0 ${r.statusCode} ${reason}`, r.headers, r.body);
}

function serialize(startLine: string, headers: RtspHeaders | RtspHeaderRecord, body: Buffer | string | undefined): Buffer {
  const list = headers instanceof RtspHeaders ? headers : RtspHeaders.from(headers);
  const bodyBytes = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  let text = `${startLine}\r\n`;
  for (const [name, value] of list.entries()) {
    if (bodyBytes !== undefined && name.toLowerCase() === 'content-length') continue;
    // a CR or LF in a value would let it forge headers or a whole message
    if (!TOKEN.test(name) || /[\r\n]/.test(value)) throw badArgument(`header ${JSON.stringify(name)}: ${JSON.stringify(value.slice(0, 80))}`);
    text += `${name}: ${value}\r\n`;
  }
  if (bodyBytes !== undefined) text += `Content-Length: ${bodyBytes.length}\r\n`;
  text += '\r\n';
  const head = Buffer.from(text, 'utf8');
  return bodyBytes === undefined || bodyBytes.length === 0 ? head : Buffer.concat([head, bodyBytes]);
}

function badArgument(what: string): RtspProtocolError {
  return new RtspProtocolError('BAD_ARGUMENT', `cannot serialize ${what}`, 500);
}

/**
 * The 4-byte prefix of an interleaved frame (RFC 2326 10.12): `$`, channel, 16-bit length. The caller
 * writes [header, packet] together (writev) so the packet is never copied.
 */
export function interleavedHeader(channel: number, length: number): Buffer {
  if (!Number.isInteger(channel) || channel < 0 || channel > 255) throw badArgument(`interleaved channel ${channel}`);
  if (!Number.isInteger(length) || length < 0 || length > 0xffff) throw badArgument(`interleaved frame length ${length}`);
  const header = Buffer.allocUnsafe(4);
  header[0] = DOLLAR;
  header[1] = channel;
  header.writeUInt16BE(length, 2);
  return header;
}
