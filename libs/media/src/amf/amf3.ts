/**
 * AMF3 (Action Message Format 3): a bounded decoder for every AMF3 type (so AMF3 commands from
 * Flash/Flex never make a session fail) and an encoder for the basic types.
 *
 * Also the shared plumbing of the AMF codecs (decode limits, a growable writer, a safe property
 * setter); amf0.ts builds on it.
 *
 * Decoded representation:
 * - undefined/null/boolean/number/string as in JS; integer and double both give a number;
 * - Date -> Date; XML and XMLDocument -> string; ByteArray -> Buffer (a copy);
 * - Array: dense-only -> JS array; with associative members -> a plain object holding both
 *   ("0", "1", ... and the named keys);
 * - Object (sealed and dynamic members) -> plain object (the class name is dropped);
 *   externalizable flex.messaging.io.ArrayCollection / ObjectProxy -> their wrapped value;
 *   any other externalizable class -> AmfError UNSUPPORTED_MARKER (its bytes cannot be skipped);
 * - Vector.<int|uint|Number|Object> -> JS array; Dictionary -> Map.
 *
 * Safety: nesting depth is limited, every count and length is checked against the bytes left before
 * anything is allocated, the number of produced values (including those reached again through
 * references) is limited, a reference to an object still being decoded (a cycle) is rejected, and
 * "__proto__" keys become own properties (no prototype pollution). Decoders throw only AmfError.
 */
import { AmfError } from './amf.errors';

export type Amf3Value =
  | number
  | boolean
  | string
  | null
  | undefined
  | Date
  | Buffer
  | Amf3Value[]
  | Map<Amf3Value, Amf3Value>
  | { [key: string]: Amf3Value };

export interface AmfDecodeOptions {
  /** deepest nesting of objects/arrays accepted; default 64 */
  maxDepth?: number;
  /** most values produced by one decode call, references expanded; default 1,000,000 */
  maxValues?: number;
}

/** @internal shared between the AMF0 and AMF3 readers of one decode call */
export interface AmfDecodeState {
  readonly maxDepth: number;
  readonly maxValues: number;
  values: number;
}

export const AMF_DEFAULT_MAX_DEPTH = 64;
export const AMF_DEFAULT_MAX_VALUES = 1_000_000;

/** @internal */
export function newAmfDecodeState(options?: AmfDecodeOptions): AmfDecodeState {
  return {
    maxDepth: options?.maxDepth ?? AMF_DEFAULT_MAX_DEPTH,
    maxValues: options?.maxValues ?? AMF_DEFAULT_MAX_VALUES,
    values: 0,
  };
}

/** @internal Sets obj[key] = value without ever touching the prototype chain. */
export function amfSafeSet(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    obj[key] = value;
  }
}

/** @internal A growable big-endian byte writer. */
export class AmfWriter {
  private buf: Buffer;
  length = 0;

  constructor(initialSize = 256) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  private ensure(n: number): void {
    const need = this.length + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.length++] = v;
  }

  u16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.length);
    this.length += 2;
  }

  i16(v: number): void {
    this.ensure(2);
    this.buf.writeInt16BE(v, this.length);
    this.length += 2;
  }

  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.length);
    this.length += 4;
  }

  double(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.length);
    this.length += 8;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  /** writes the UTF-8 bytes of s (no length prefix); the caller already knows byteLength */
  utf8(s: string, byteLength: number): void {
    this.ensure(byteLength);
    this.buf.write(s, this.length, byteLength, 'utf8');
    this.length += byteLength;
  }

  result(): Buffer {
    // copy when mostly empty so a small message does not pin a large scratch buffer
    if (this.length < this.buf.length >>> 1) return Buffer.from(this.buf.subarray(0, this.length));
    return this.buf.subarray(0, this.length);
  }
}

export const Amf3Marker = {
  Undefined: 0x00,
  Null: 0x01,
  False: 0x02,
  True: 0x03,
  Integer: 0x04,
  Double: 0x05,
  String: 0x06,
  XmlDocument: 0x07,
  Date: 0x08,
  Array: 0x09,
  Object: 0x0a,
  Xml: 0x0b,
  ByteArray: 0x0c,
  VectorInt: 0x0d,
  VectorUint: 0x0e,
  VectorDouble: 0x0f,
  VectorObject: 0x10,
  Dictionary: 0x11,
} as const;

interface Trait {
  className: string;
  sealed: string[];
  dynamic: boolean;
  externalizable: boolean;
}

interface ObjectEntry {
  value: Amf3Value;
  done: boolean;
  /** values produced while decoding it (charged again when referenced) */
  size: number;
}

/** Externalizable classes whose body is one AMF3 value. */
const WRAPPING_EXTERNALIZABLES = new Set(['flex.messaging.io.ArrayCollection', 'flex.messaging.io.ObjectProxy']);

/**
 * Reads AMF3 values from `buf` starting at `offset`; `pos` advances. One reader = one set of
 * reference tables (strings, objects, traits).
 */
export class Amf3Reader {
  pos: number;
  private readonly state: AmfDecodeState;
  private readonly strings: string[] = [];
  private readonly objects: ObjectEntry[] = [];
  private readonly traits: Trait[] = [];

  constructor(
    private readonly buf: Buffer,
    offset = 0,
    options?: AmfDecodeOptions | AmfDecodeState,
    private readonly baseDepth = 0,
  ) {
    this.pos = offset;
    this.state = isState(options) ? options : newAmfDecodeState(options);
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private fail(code: 'TRUNCATED' | 'BAD_REFERENCE' | 'BAD_LENGTH' | 'UNKNOWN_MARKER' | 'UNSUPPORTED_MARKER', msg: string): never {
    throw new AmfError(code, `AMF3: ${msg}`, this.pos);
  }

  private need(n: number): void {
    if (this.buf.length - this.pos < n) this.fail('TRUNCATED', `need ${n} bytes, have ${this.buf.length - this.pos}`);
  }

  private u8(): number {
    this.need(1);
    return this.buf[this.pos++];
  }

  readU29(): number {
    let result = 0;
    for (let i = 0; i < 3; i++) {
      const b = this.u8();
      result = (result << 7) | (b & 0x7f);
      if ((b & 0x80) === 0) return result;
    }
    return ((result << 8) | this.u8()) >>> 0;
  }

  private count(n = 1): void {
    this.state.values += n;
    if (this.state.values > this.state.maxValues) {
      throw new AmfError('TOO_MANY_VALUES', `AMF: more than ${this.state.maxValues} values`, this.pos);
    }
  }

  private checkCount(n: number, bytesEach: number): void {
    if (n * bytesEach > this.buf.length - this.pos) this.fail('BAD_LENGTH', `count ${n} exceeds the ${this.buf.length - this.pos} bytes left`);
  }

  readString(): string {
    const h = this.readU29();
    if ((h & 1) === 0) {
      const idx = h >>> 1;
      if (idx >= this.strings.length) this.fail('BAD_REFERENCE', `string reference ${idx} of ${this.strings.length}`);
      return this.strings[idx];
    }
    const len = h >>> 1;
    this.need(len);
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    if (len > 0) this.strings.push(s);
    return s;
  }

  /** Returns the referenced object when `h` is a reference, else undefined. */
  private objectRef(h: number): ObjectEntry | undefined {
    if ((h & 1) !== 0) return undefined;
    const idx = h >>> 1;
    const entry = this.objects[idx];
    if (!entry) this.fail('BAD_REFERENCE', `object reference ${idx} of ${this.objects.length}`);
    if (!entry.done) this.fail('BAD_REFERENCE', `object reference ${idx} to an object being decoded (cycle)`);
    this.count(entry.size);
    return entry;
  }

  private begin(value: Amf3Value): { entry: ObjectEntry; start: number } {
    const entry: ObjectEntry = { value, done: false, size: 0 };
    this.objects.push(entry);
    return { entry, start: this.state.values };
  }

  private end(e: { entry: ObjectEntry; start: number }, value: Amf3Value): Amf3Value {
    e.entry.value = value;
    e.entry.done = true;
    e.entry.size = this.state.values - e.start + 1;
    return value;
  }

  readValue(depth = this.baseDepth): Amf3Value {
    if (depth > this.state.maxDepth) throw new AmfError('DEPTH_EXCEEDED', `AMF3: nesting deeper than ${this.state.maxDepth}`, this.pos);
    this.count();
    const marker = this.u8();
    switch (marker) {
      case Amf3Marker.Undefined:
        return undefined;
      case Amf3Marker.Null:
        return null;
      case Amf3Marker.False:
        return false;
      case Amf3Marker.True:
        return true;
      case Amf3Marker.Integer: {
        const v = this.readU29();
        return v & 0x10000000 ? v - 0x20000000 : v;
      }
      case Amf3Marker.Double: {
        this.need(8);
        const v = this.buf.readDoubleBE(this.pos);
        this.pos += 8;
        return v;
      }
      case Amf3Marker.String:
        return this.readString();
      case Amf3Marker.XmlDocument:
      case Amf3Marker.Xml: {
        const h = this.readU29();
        const ref = this.objectRef(h);
        if (ref) return ref.value;
        const len = h >>> 1;
        this.need(len);
        const s = this.buf.toString('utf8', this.pos, this.pos + len);
        this.pos += len;
        return this.end(this.begin(s), s);
      }
      case Amf3Marker.Date: {
        const h = this.readU29();
        const ref = this.objectRef(h);
        if (ref) return ref.value;
        this.need(8);
        const d = new Date(this.buf.readDoubleBE(this.pos));
        this.pos += 8;
        return this.end(this.begin(d), d);
      }
      case Amf3Marker.ByteArray: {
        const h = this.readU29();
        const ref = this.objectRef(h);
        if (ref) return ref.value;
        const len = h >>> 1;
        this.need(len);
        const b = Buffer.from(this.buf.subarray(this.pos, this.pos + len));
        this.pos += len;
        return this.end(this.begin(b), b);
      }
      case Amf3Marker.Array:
        return this.readArray(depth);
      case Amf3Marker.Object:
        return this.readObject(depth);
      case Amf3Marker.VectorInt:
      case Amf3Marker.VectorUint:
      case Amf3Marker.VectorDouble:
      case Amf3Marker.VectorObject:
        return this.readVector(marker, depth);
      case Amf3Marker.Dictionary:
        return this.readDictionary(depth);
      default:
        this.pos--;
        this.fail('UNKNOWN_MARKER', `unknown marker 0x${marker.toString(16)}`);
    }
  }

  private readArray(depth: number): Amf3Value {
    const h = this.readU29();
    const ref = this.objectRef(h);
    if (ref) return ref.value;
    const len = h >>> 1;
    const dense: Amf3Value[] = [];
    const e = this.begin(dense);
    let assoc: Record<string, Amf3Value> | undefined;
    while (true) {
      const key = this.readString();
      if (key === '') break;
      assoc ??= {};
      amfSafeSet(assoc, key, this.readValue(depth + 1));
    }
    this.checkCount(len, 1);
    for (let i = 0; i < len; i++) dense.push(this.readValue(depth + 1));
    if (!assoc) return this.end(e, dense);
    const obj: Record<string, Amf3Value> = {};
    for (let i = 0; i < len; i++) obj[String(i)] = dense[i];
    for (const k of Object.keys(assoc)) amfSafeSet(obj, k, assoc[k]);
    return this.end(e, obj);
  }

  private readTrait(h: number): Trait {
    if ((h & 2) === 0) {
      const idx = h >>> 2;
      const t = this.traits[idx];
      if (!t) this.fail('BAD_REFERENCE', `trait reference ${idx} of ${this.traits.length}`);
      return t;
    }
    if ((h & 4) !== 0) {
      const t: Trait = { className: this.readString(), sealed: [], dynamic: false, externalizable: true };
      this.traits.push(t);
      return t;
    }
    const dynamic = (h & 8) !== 0;
    const n = h >>> 4;
    const className = this.readString();
    this.checkCount(n, 1);
    const sealed: string[] = [];
    for (let i = 0; i < n; i++) sealed.push(this.readString());
    const t: Trait = { className, sealed, dynamic, externalizable: false };
    this.traits.push(t);
    return t;
  }

  private readObject(depth: number): Amf3Value {
    const h = this.readU29();
    const ref = this.objectRef(h);
    if (ref) return ref.value;
    const trait = this.readTrait(h);
    const obj: Record<string, Amf3Value> = {};
    const e = this.begin(obj);
    if (trait.externalizable) {
      if (!WRAPPING_EXTERNALIZABLES.has(trait.className)) {
        this.fail('UNSUPPORTED_MARKER', `externalizable class "${trait.className}" cannot be decoded`);
      }
      return this.end(e, this.readValue(depth + 1));
    }
    this.checkCount(trait.sealed.length, 1);
    for (const name of trait.sealed) amfSafeSet(obj, name, this.readValue(depth + 1));
    if (trait.dynamic) {
      while (true) {
        const key = this.readString();
        if (key === '') break;
        amfSafeSet(obj, key, this.readValue(depth + 1));
      }
    }
    return this.end(e, obj);
  }

  private readVector(marker: number, depth: number): Amf3Value {
    const h = this.readU29();
    const ref = this.objectRef(h);
    if (ref) return ref.value;
    const len = h >>> 1;
    this.u8(); // fixed-length flag
    const out: Amf3Value[] = [];
    const e = this.begin(out);
    if (marker === Amf3Marker.VectorObject) {
      this.readString(); // element type name
      this.checkCount(len, 1);
      for (let i = 0; i < len; i++) out.push(this.readValue(depth + 1));
      return this.end(e, out);
    }
    const size = marker === Amf3Marker.VectorDouble ? 8 : 4;
    this.checkCount(len, size);
    this.count(len);
    for (let i = 0; i < len; i++) {
      const p = this.pos;
      out.push(marker === Amf3Marker.VectorInt ? this.buf.readInt32BE(p) : marker === Amf3Marker.VectorUint ? this.buf.readUInt32BE(p) : this.buf.readDoubleBE(p));
      this.pos += size;
    }
    return this.end(e, out);
  }

  private readDictionary(depth: number): Amf3Value {
    const h = this.readU29();
    const ref = this.objectRef(h);
    if (ref) return ref.value;
    const len = h >>> 1;
    this.u8(); // weak keys flag
    this.checkCount(len, 2);
    const map = new Map<Amf3Value, Amf3Value>();
    const e = this.begin(map);
    for (let i = 0; i < len; i++) {
      const k = this.readValue(depth + 1);
      map.set(k, this.readValue(depth + 1));
    }
    return this.end(e, map);
  }
}

function isState(o: AmfDecodeOptions | AmfDecodeState | undefined): o is AmfDecodeState {
  return !!o && typeof (o as AmfDecodeState).values === 'number';
}

/** Decodes every AMF3 value in `buf` (one set of reference tables for the whole buffer). */
export function decodeAmf3(buf: Buffer, options?: AmfDecodeOptions): Amf3Value[] {
  const r = new Amf3Reader(buf, 0, options);
  const out: Amf3Value[] = [];
  while (r.pos < buf.length) out.push(r.readValue());
  return out;
}

// ---------------------------------------------------------------------------------------------
// Encoder (basic types)

const MAX_DEPTH_ENCODE = 64;
const U29_MAX = 0x1fffffff;

/** @internal */
export function writeU29(w: AmfWriter, v: number): void {
  if (v < 0 || v > U29_MAX) throw new AmfError('BAD_LENGTH', `AMF3: ${v} does not fit in U29`);
  if (v < 0x80) {
    w.u8(v);
  } else if (v < 0x4000) {
    w.u8(((v >>> 7) & 0x7f) | 0x80);
    w.u8(v & 0x7f);
  } else if (v < 0x200000) {
    w.u8(((v >>> 14) & 0x7f) | 0x80);
    w.u8(((v >>> 7) & 0x7f) | 0x80);
    w.u8(v & 0x7f);
  } else {
    w.u8(((v >>> 22) & 0x7f) | 0x80);
    w.u8(((v >>> 15) & 0x7f) | 0x80);
    w.u8(((v >>> 8) & 0x7f) | 0x80);
    w.u8(v & 0xff);
  }
}

/**
 * Writes AMF3 values. Strings are written once and then by reference; objects, arrays and dates
 * are always written inline (no object references; cycles are rejected).
 */
export class Amf3Writer {
  private readonly strings = new Map<string, number>();
  private readonly stack = new Set<object>();

  constructor(readonly w: AmfWriter = new AmfWriter()) {}

  writeString(s: string): void {
    if (s === '') {
      this.w.u8(0x01);
      return;
    }
    const idx = this.strings.get(s);
    if (idx !== undefined) {
      writeU29(this.w, idx << 1);
      return;
    }
    const n = Buffer.byteLength(s, 'utf8');
    if (n > 0x0fffffff) throw new AmfError('BAD_LENGTH', 'AMF3: string longer than 2^28-1 bytes');
    writeU29(this.w, (n << 1) | 1);
    this.w.utf8(s, n);
    this.strings.set(s, this.strings.size);
  }

  writeValue(v: unknown, depth = 0): void {
    const w = this.w;
    if (v === undefined) return w.u8(Amf3Marker.Undefined);
    if (v === null) return w.u8(Amf3Marker.Null);
    switch (typeof v) {
      case 'boolean':
        return w.u8(v ? Amf3Marker.True : Amf3Marker.False);
      case 'number':
        if (Number.isInteger(v) && v >= -0x10000000 && v <= 0x0fffffff && !Object.is(v, -0)) {
          w.u8(Amf3Marker.Integer);
          return writeU29(w, v & U29_MAX);
        }
        w.u8(Amf3Marker.Double);
        return w.double(v);
      case 'string':
        w.u8(Amf3Marker.String);
        return this.writeString(v);
      case 'object':
        break;
      default:
        throw new AmfError('UNSUPPORTED_TYPE', `AMF3: cannot encode a ${typeof v}`);
    }
    const o = v as object;
    if (o instanceof Date) {
      w.u8(Amf3Marker.Date);
      w.u8(0x01);
      return w.double(o.getTime());
    }
    if (Buffer.isBuffer(o) || o instanceof Uint8Array) {
      w.u8(Amf3Marker.ByteArray);
      if (o.length > 0x0fffffff) throw new AmfError('BAD_LENGTH', 'AMF3: ByteArray longer than 2^28-1 bytes');
      writeU29(w, (o.length << 1) | 1);
      return w.bytes(o);
    }
    if (depth >= MAX_DEPTH_ENCODE) throw new AmfError('DEPTH_EXCEEDED', `AMF3: nesting deeper than ${MAX_DEPTH_ENCODE}`);
    if (this.stack.has(o)) throw new AmfError('CYCLE', 'AMF3: cyclic structure');
    this.stack.add(o);
    if (Array.isArray(o)) {
      w.u8(Amf3Marker.Array);
      if (o.length > 0x0fffffff) throw new AmfError('BAD_LENGTH', 'AMF3: array too long');
      writeU29(w, (o.length << 1) | 1);
      w.u8(0x01); // no associative members
      for (const item of o) this.writeValue(item, depth + 1);
    } else if (o instanceof Map) {
      w.u8(Amf3Marker.Dictionary);
      writeU29(w, (o.size << 1) | 1);
      w.u8(0x00);
      for (const [k, val] of o) {
        this.writeValue(k, depth + 1);
        this.writeValue(val, depth + 1);
      }
    } else {
      w.u8(Amf3Marker.Object);
      w.u8(0x0b); // inline object, inline traits, dynamic, 0 sealed members
      w.u8(0x01); // anonymous class
      const rec = o as Record<string, unknown>;
      for (const key of Object.keys(rec)) {
        if (key === '') continue; // the empty key terminates the dynamic members; cannot be encoded
        this.writeString(key);
        this.writeValue(rec[key], depth + 1);
      }
      w.u8(0x01);
    }
    this.stack.delete(o);
  }
}

/** Encodes values as AMF3 (basic types: undefined, null, boolean, number, string, Date, Buffer, array, Map, plain object). */
export function encodeAmf3(...values: unknown[]): Buffer {
  const aw = new Amf3Writer();
  for (const v of values) aw.writeValue(v);
  return aw.w.result();
}
