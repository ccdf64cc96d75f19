/**
 * AMF0 (Action Message Format 0), as carried by RTMP command (20) and data (18) messages and by the
 * FLV script tag.
 *
 * Encoding (`encodeAmf0`): number -> Number (0x00); boolean -> Boolean; string -> String, or Long
 * String when longer than 65535 UTF-8 bytes; null -> Null; undefined -> Undefined; Date -> Date
 * (timezone 0); array -> Strict Array; `Amf0EcmaArray` -> ECMA Array (0x08); any other object ->
 * anonymous Object (0x03). Cyclic input -> AmfError CYCLE; functions, symbols, bigints, Buffers,
 * Maps -> AmfError UNSUPPORTED_TYPE.
 *
 * Decoding (`decodeAmf0`): every value in the buffer. Objects, typed objects (class name dropped)
 * and ECMA arrays -> plain objects; Strict Array -> array; Long String and XML Document -> string;
 * Date -> Date; Unsupported (0x0d) -> undefined; Reference (0x07) -> the same JS object decoded
 * earlier; AVM+ switch (0x11) -> the next value is read as AMF3 (fresh AMF3 reference tables per
 * switch; see amf3.ts for what AMF3 values decode to: they may include Buffer and Map, outside
 * `Amf0Value`). MovieClip and RecordSet -> AmfError UNSUPPORTED_MARKER.
 *
 * Leniency: an object or ECMA array whose end marker is missing exactly at the end of the buffer is
 * accepted (some encoders write metadata that way); the ECMA array count is only a hint.
 *
 * Bounds: see AmfDecodeOptions (depth, number of values incl. references); lengths and counts are
 * checked against the bytes left; references to an object still being decoded (cycles) are
 * rejected; "__proto__" keys become own properties. Only AmfError is thrown.
 */
import { AmfError } from './amf.errors';
import { Amf3Reader, AmfDecodeOptions, AmfDecodeState, AmfWriter, amfSafeSet, newAmfDecodeState } from './amf3';

export type { AmfDecodeOptions } from './amf3';

export type Amf0Value =
  | number
  | boolean
  | string
  | null
  | undefined
  | Date
  | Amf0Value[]
  | { [key: string]: Amf0Value }
  | Amf0EcmaArray;

/** A value to encode as an ECMA (associative) array, type 0x08 (e.g. onMetaData). */
export class Amf0EcmaArray {
  constructor(public entries: Record<string, Amf0Value>) {}
}

export const Amf0Marker = {
  Number: 0x00,
  Boolean: 0x01,
  String: 0x02,
  Object: 0x03,
  MovieClip: 0x04,
  Null: 0x05,
  Undefined: 0x06,
  Reference: 0x07,
  EcmaArray: 0x08,
  ObjectEnd: 0x09,
  StrictArray: 0x0a,
  Date: 0x0b,
  LongString: 0x0c,
  Unsupported: 0x0d,
  RecordSet: 0x0e,
  XmlDocument: 0x0f,
  TypedObject: 0x10,
  AvmPlus: 0x11,
} as const;

interface RefEntry {
  value: Amf0Value;
  done: boolean;
  size: number;
}

/**
 * Reads AMF0 values from `buf` starting at `offset`; `pos` advances. One reader = one reference
 * table. Use it to read a few values and look at what follows (`pos`, `remaining`).
 */
export class Amf0Reader {
  pos: number;
  private readonly state: AmfDecodeState;
  private readonly refs: RefEntry[] = [];

  constructor(
    private readonly buf: Buffer,
    offset = 0,
    options?: AmfDecodeOptions,
  ) {
    this.pos = offset;
    this.state = newAmfDecodeState(options);
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private fail(code: 'TRUNCATED' | 'BAD_REFERENCE' | 'BAD_LENGTH' | 'UNKNOWN_MARKER' | 'UNSUPPORTED_MARKER' | 'UNEXPECTED_OBJECT_END', msg: string): never {
    throw new AmfError(code, `AMF0: ${msg}`, this.pos);
  }

  private need(n: number): void {
    if (this.buf.length - this.pos < n) this.fail('TRUNCATED', `need ${n} bytes, have ${this.buf.length - this.pos}`);
  }

  private u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  private u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  private str(len: number): string {
    this.need(len);
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  private count(n = 1): void {
    this.state.values += n;
    if (this.state.values > this.state.maxValues) {
      throw new AmfError('TOO_MANY_VALUES', `AMF: more than ${this.state.maxValues} values`, this.pos);
    }
  }

  readValue(depth = 0): Amf0Value {
    if (depth > this.state.maxDepth) throw new AmfError('DEPTH_EXCEEDED', `AMF0: nesting deeper than ${this.state.maxDepth}`, this.pos);
    this.need(1);
    const marker = this.buf[this.pos++];
    switch (marker) {
      case Amf0Marker.Number: {
        this.count();
        this.need(8);
        const v = this.buf.readDoubleBE(this.pos);
        this.pos += 8;
        return v;
      }
      case Amf0Marker.Boolean:
        this.count();
        this.need(1);
        return this.buf[this.pos++] !== 0;
      case Amf0Marker.String:
        this.count();
        return this.str(this.u16());
      case Amf0Marker.LongString:
      case Amf0Marker.XmlDocument:
        this.count();
        return this.str(this.u32());
      case Amf0Marker.Null:
        this.count();
        return null;
      case Amf0Marker.Undefined:
      case Amf0Marker.Unsupported:
        this.count();
        return undefined;
      case Amf0Marker.Date: {
        this.count();
        this.need(10);
        const d = new Date(this.buf.readDoubleBE(this.pos));
        this.pos += 10; // 8 bytes of milliseconds + 2 bytes of (ignored) timezone
        return d;
      }
      case Amf0Marker.Object:
        return this.readProperties(depth, false);
      case Amf0Marker.TypedObject:
        this.str(this.u16()); // class name, dropped
        return this.readProperties(depth, false);
      case Amf0Marker.EcmaArray:
        this.u32(); // count: a hint only, often wrong
        return this.readProperties(depth, true);
      case Amf0Marker.StrictArray:
        return this.readStrictArray(depth);
      case Amf0Marker.Reference: {
        const idx = this.u16();
        const entry = this.refs[idx];
        if (!entry) this.fail('BAD_REFERENCE', `reference ${idx} of ${this.refs.length}`);
        if (!entry.done) this.fail('BAD_REFERENCE', `reference ${idx} to an object being decoded (cycle)`);
        this.count(entry.size);
        return entry.value;
      }
      case Amf0Marker.AvmPlus: {
        const r = new Amf3Reader(this.buf, this.pos, this.state, depth);
        const v = r.readValue(depth);
        this.pos = r.pos;
        return v as Amf0Value;
      }
      case Amf0Marker.ObjectEnd:
        this.pos--;
        this.fail('UNEXPECTED_OBJECT_END', 'object-end marker where a value was expected');
      // eslint-disable-next-line no-fallthrough
      case Amf0Marker.MovieClip:
      case Amf0Marker.RecordSet:
        this.pos--;
        this.fail('UNSUPPORTED_MARKER', `unsupported marker 0x${marker.toString(16)}`);
      // eslint-disable-next-line no-fallthrough
      default:
        this.pos--;
        this.fail('UNKNOWN_MARKER', `unknown marker 0x${marker.toString(16)}`);
    }
  }

  private begin(value: Amf0Value): { entry: RefEntry; start: number } {
    this.count();
    const entry: RefEntry = { value, done: false, size: 0 };
    this.refs.push(entry);
    return { entry, start: this.state.values };
  }

  private end(e: { entry: RefEntry; start: number }): void {
    e.entry.done = true;
    e.entry.size = this.state.values - e.start + 1;
  }

  private readProperties(depth: number, _ecma: boolean): Amf0Value {
    const obj: { [key: string]: Amf0Value } = {};
    const e = this.begin(obj);
    const len = this.buf.length;
    while (true) {
      if (this.pos === len) break; // lenient: end marker missing at the end of the buffer
      const keyLen = this.u16();
      if (keyLen === 0) {
        if (this.pos === len) break; // lenient: "00 00" without 09 at the end of the buffer
        if (this.buf[this.pos] === Amf0Marker.ObjectEnd) {
          this.pos++;
          break;
        }
      }
      const key = this.str(keyLen);
      amfSafeSet(obj, key, this.readValue(depth + 1));
    }
    this.end(e);
    return obj;
  }

  private readStrictArray(depth: number): Amf0Value {
    const n = this.u32();
    if (n > this.buf.length - this.pos) this.fail('BAD_LENGTH', `strict array of ${n} items in ${this.buf.length - this.pos} bytes`);
    const arr: Amf0Value[] = [];
    const e = this.begin(arr);
    for (let i = 0; i < n; i++) arr.push(this.readValue(depth + 1));
    this.end(e);
    return arr;
  }
}

/** Decodes every AMF0 value in `buf`. Throws only AmfError. */
export function decodeAmf0(buf: Buffer, options?: AmfDecodeOptions): Amf0Value[] {
  const r = new Amf0Reader(buf, 0, options);
  const out: Amf0Value[] = [];
  while (r.pos < buf.length) out.push(r.readValue());
  return out;
}

// ---------------------------------------------------------------------------------------------
// Encoder

const MAX_DEPTH_ENCODE = 64;

function writeKey(w: AmfWriter, key: string): void {
  const n = Buffer.byteLength(key, 'utf8');
  if (n > 0xffff) throw new AmfError('BAD_LENGTH', 'AMF0: property name longer than 65535 bytes');
  w.u16(n);
  w.utf8(key, n);
}

function writeProperties(w: AmfWriter, rec: Record<string, unknown>, depth: number, stack: Set<object>): void {
  for (const key of Object.keys(rec)) {
    if (key === '') continue; // an empty name would read as the end marker
    writeKey(w, key);
    writeValue(w, rec[key], depth + 1, stack);
  }
  w.u16(0);
  w.u8(Amf0Marker.ObjectEnd);
}

function writeValue(w: AmfWriter, v: unknown, depth: number, stack: Set<object>): void {
  if (v === null) return w.u8(Amf0Marker.Null);
  if (v === undefined) return w.u8(Amf0Marker.Undefined);
  switch (typeof v) {
    case 'number':
      w.u8(Amf0Marker.Number);
      return w.double(v);
    case 'boolean':
      w.u8(Amf0Marker.Boolean);
      return w.u8(v ? 1 : 0);
    case 'string': {
      const n = Buffer.byteLength(v, 'utf8');
      if (n > 0xffff) {
        if (n > 0xffffffff) throw new AmfError('BAD_LENGTH', 'AMF0: string longer than 2^32-1 bytes');
        w.u8(Amf0Marker.LongString);
        w.u32(n);
      } else {
        w.u8(Amf0Marker.String);
        w.u16(n);
      }
      return w.utf8(v, n);
    }
    case 'object':
      break;
    default:
      throw new AmfError('UNSUPPORTED_TYPE', `AMF0: cannot encode a ${typeof v}`);
  }
  const o = v as object;
  if (o instanceof Date) {
    w.u8(Amf0Marker.Date);
    w.double(o.getTime());
    return w.i16(0);
  }
  if (Buffer.isBuffer(o) || ArrayBuffer.isView(o) || o instanceof Map || o instanceof Set) {
    throw new AmfError('UNSUPPORTED_TYPE', `AMF0: cannot encode a ${o.constructor?.name ?? 'object'}`);
  }
  if (depth >= MAX_DEPTH_ENCODE) throw new AmfError('DEPTH_EXCEEDED', `AMF0: nesting deeper than ${MAX_DEPTH_ENCODE}`);
  if (stack.has(o)) throw new AmfError('CYCLE', 'AMF0: cyclic structure');
  stack.add(o);
  if (Array.isArray(o)) {
    w.u8(Amf0Marker.StrictArray);
    w.u32(o.length);
    for (const item of o) writeValue(w, item, depth + 1, stack);
  } else if (o instanceof Amf0EcmaArray) {
    const entries = o.entries ?? {};
    w.u8(Amf0Marker.EcmaArray);
    w.u32(Object.keys(entries).filter((k) => k !== '').length);
    writeProperties(w, entries, depth, stack);
  } else {
    w.u8(Amf0Marker.Object);
    writeProperties(w, o as Record<string, unknown>, depth, stack);
  }
  stack.delete(o);
}

/** Encodes the values one after another, as AMF0. Throws AmfError for values AMF0 cannot carry. */
export function encodeAmf0(...values: Amf0Value[]): Buffer {
  const w = new AmfWriter();
  const stack = new Set<object>();
  for (const v of values) writeValue(w, v, 0, stack);
  return w.result();
}
