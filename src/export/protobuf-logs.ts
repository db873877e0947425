import type { AuditRecord } from '../core/record.ts';

/**
 * AuditRecord[] -> the bytes of an OTLP ExportLogsServiceRequest (opentelemetry-proto
 * collector/logs/v1, logs/v1, common/v1, resource/v1), in one pass.
 *
 * The output is byte for byte what OpenTelemetry's ProtobufLogsSerializer (@opentelemetry/otlp-transformer
 * 0.301.0) writes for `records.map((r) => toLogRecord(r, resource))` (test/export/protobuf-logs.test.ts
 * holds it to that): the same field order, the same defaults left out or written (dropped counts of 0
 * are written on LogRecord and Resource, and left out on InstrumentationScope), JS numbers that are
 * integers in [-2^63, 2^63) as int_value and all others as double_value, null and undefined as an empty
 * AnyValue, the uid appended as `log.record.uid`. What it skips: the ReadableLogRecord objects, the
 * serializer's sizing pass over everything, and its UTF-8 encoding in JS (strings other than short
 * ASCII ones go through Node's native UTF-8 writer here).
 *
 * Lengths of nested messages are not known up front: a message gets one byte for its length (a LogRecord
 * and its body as many as the previous record's needed) and, when that turns out wrong, its content is
 * moved by the difference (copyWithin). Only the outer ResourceLogs and ScopeLogs, which hold everything,
 * are framed at the end, while the bytes are copied into the returned array.
 */

/** What the encoder reads of an OpenTelemetry Resource. */
export interface ResourceLike {
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly schemaUrl?: string | undefined;
}

/** What the encoder reads of an OpenTelemetry InstrumentationScope. */
export interface ScopeLike {
  readonly name: string;
  readonly version?: string | undefined;
  readonly schemaUrl?: string | undefined;
  readonly attributes?: Readonly<Record<string, unknown>> | undefined;
  readonly droppedAttributesCount?: number | undefined;
}

const UID_KEY = 'log.record.uid';
const MIN_INT64 = -(2 ** 63);
const MAX_INT64 = 2 ** 63;
/** A scratch buffer larger than this after a call is dropped rather than kept for the next one. */
const KEEP_SCRATCH_BYTES = 16 << 20;
/**
 * Strings up to this many UTF-16 units are copied by a JS loop when ASCII (cheaper than a native call;
 * measured on mapped audit records). At most 42, so that their length always fits in one byte.
 */
const SHORT_STRING = 15;
const hasOwn = Object.prototype.hasOwnProperty;
type Utf8Write = (this: Buffer, s: string, offset: number, length: number) => number;
/** Buffer#write without its argument checks: Node's utf8Write, which Buffer#write calls for UTF-8 (undocumented, hence the fallback). */
const utf8Write: Utf8Write =
  (Buffer.prototype as unknown as { utf8Write?: Utf8Write }).utf8Write ??
  function (this: Buffer, s: string, offset: number, length: number): number {
    return this.write(s, offset, length, 'utf8');
  };

// The encoder's state: one scratch buffer, reused from call to call, and the write position in it.
// encodeLogsProtobuf is synchronous and copies its result out, so one scratch serves every caller.
let buf: Buffer = Buffer.allocUnsafeSlow(1 << 16);
let pos = 0;
// Length bytes reserved for a LogRecord, its body AnyValue and the body's array or kvlist: as many as
// the previous record's needed (records of one stream are alike), so they rarely have to move.
let recordReserve = 2;
let bodyReserve = 2;
let bodyListReserve = 2;

/**
 * The protobuf ExportLogsServiceRequest for `records`, all under one resource and one scope. The
 * returned array is the caller's: it has memory of its own, which later calls never write into.
 */
export function encodeLogsProtobuf(resource: ResourceLike, scope: ScopeLike, records: readonly AuditRecord[]): Uint8Array {
  // The serializer writes no ResourceLogs at all for no records.
  if (records.length === 0) return new Uint8Array(0);
  pos = 0;
  // Scratch layout: Resource message | InstrumentationScope field, LogRecord fields, ScopeLogs.schema_url |
  // ResourceLogs.schema_url. The two framing headers go in between while copying out.
  writeResource(resource);
  const resourceEnd = pos;
  writeScope(scope);
  for (let i = 0; i < records.length; i++) writeLogRecord(records[i]!);
  if (scope.schemaUrl) {
    tag(0x1a);
    writeString(scope.schemaUrl);
  }
  const scopeLogsEnd = pos;
  if (resource.schemaUrl) {
    tag(0x1a);
    writeString(resource.schemaUrl);
  }
  const end = pos;

  const scopeLogsLen = scopeLogsEnd - resourceEnd;
  const resourceLogsLen = 1 + resourceEnd + 1 + varintSize(scopeLogsLen) + scopeLogsLen + (end - scopeLogsEnd);
  const total = 1 + varintSize(resourceLogsLen) + resourceLogsLen;
  // Memory of its own (never a pool slice, never the scratch): the caller may keep it and send it again.
  const out = Buffer.allocUnsafeSlow(total);
  let o = 0;
  out[o++] = 0x0a; // ExportLogsServiceRequest.resource_logs
  o = putVarint(out, o, resourceLogsLen);
  out[o++] = 0x0a; // ResourceLogs.resource
  o += buf.copy(out, o, 0, resourceEnd);
  out[o++] = 0x12; // ResourceLogs.scope_logs
  o = putVarint(out, o, scopeLogsLen);
  o += buf.copy(out, o, resourceEnd, end);
  if (o !== total) throw new Error(`protobuf logs encoder: wrote ${o} bytes, expected ${total}`);
  if (buf.length > KEEP_SCRATCH_BYTES) buf = Buffer.allocUnsafeSlow(1 << 16);
  return new Uint8Array(out.buffer, out.byteOffset, total);
}

/** Resource (its length and content; the caller writes the tag): attributes, dropped_attributes_count 0. */
function writeResource(resource: ResourceLike): void {
  ensure(1);
  const at = pos++;
  const attributes = resource.attributes;
  if (attributes) {
    for (const key in attributes) if (hasOwn.call(attributes, key)) writeKeyValue(0x0a, key, attributes[key]);
  }
  ensure(2);
  buf[pos++] = 0x10;
  buf[pos++] = 0;
  close(at, 1);
}

/** ScopeLogs.scope: name always, version when set, attributes, dropped count when not 0. */
function writeScope(scope: ScopeLike): void {
  const at = open(0x0a, 1);
  tag(0x0a);
  writeString(scope.name);
  if (scope.version) {
    tag(0x12);
    writeString(scope.version);
  }
  const attributes = scope.attributes;
  if (attributes) {
    for (const key in attributes) if (hasOwn.call(attributes, key)) writeKeyValue(0x1a, key, attributes[key]);
  }
  if (scope.droppedAttributesCount) {
    tag(0x20);
    writeVarint(scope.droppedAttributesCount);
  }
  close(at, 1);
}

/** ScopeLogs.log_records: one LogRecord in the serializer's field order (1, 2, 3, 5, 6, 7, 11, 12). */
function writeLogRecord(record: AuditRecord): void {
  const reserved = recordReserve;
  const at = open(0x12, reserved);
  tag(0x09); // time_unix_nano
  writeHrTimeNanos(record.timeUnixMs);
  const severity = record.severityNumber;
  if (severity !== undefined && severity !== 0) {
    tag(0x10);
    writeVarint(severity);
  }
  if (record.severityText) {
    tag(0x1a);
    writeString(record.severityText);
  }
  const body = record.body;
  if (body !== undefined) {
    const bodyReserved = bodyReserve;
    const bodyAt = open(0x2a, bodyReserved);
    if (body !== null && typeof body === 'object' && !(body instanceof Uint8Array)) {
      const listReserved = bodyListReserve;
      const listAt = open(Array.isArray(body) ? 0x2a : 0x32, listReserved);
      writeListContent(body);
      bodyListReserve = close(listAt, listReserved);
    } else {
      writeAnyValue(body);
    }
    bodyReserve = close(bodyAt, bodyReserved);
  }
  // toLogRecord's `{ ...attributes, 'log.record.uid': uid }`: the uid replaces a key of that name in
  // place, or comes last.
  // Object.keys: the own enumerable keys the spread copies, in the same order. (Mapped attributes are
  // often dictionary-mode objects, for which it is cheaper than for-in.)
  const attributes = record.attributes;
  const keys = Object.keys(attributes);
  let uidWritten = false;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (key === UID_KEY) {
      writeKeyValue(0x32, key, record.uid);
      uidWritten = true;
    } else {
      writeKeyValue(0x32, key, attributes[key]);
    }
  }
  if (!uidWritten) writeKeyValue(0x32, UID_KEY, record.uid);
  ensure(2);
  buf[pos++] = 0x38; // dropped_attributes_count
  buf[pos++] = 0;
  tag(0x59); // observed_time_unix_nano
  writeHrTimeNanos(record.observedUnixMs);
  if (record.eventName) {
    tag(0x62);
    writeString(record.eventName);
  }
  recordReserve = close(at, reserved);
}

/** A KeyValue field with tag `tag`: key (1), value (2). */
function writeKeyValue(tagByte: number, key: string, value: unknown): void {
  // Room for the framing, the key, and a value's tag and number.
  ensure(24 + 3 * key.length);
  buf[pos] = tagByte;
  const kv = pos + 1;
  buf[pos + 2] = 0x0a;
  pos += 3;
  putString(key);
  buf[pos] = 0x12;
  const v = pos + 1;
  pos += 2;
  writeAnyValue(value);
  close(v, 1);
  close(kv, 1);
}

/** The content of an AnyValue, as the serializer's writeAnyValue decides it. */
function writeAnyValue(value: unknown): void {
  switch (typeof value) {
    case 'string':
      ensure(6 + 3 * value.length);
      buf[pos++] = 0x0a;
      putString(value);
      return;
    case 'boolean':
      ensure(2);
      buf[pos++] = 0x10;
      buf[pos++] = value ? 1 : 0;
      return;
    case 'number':
      ensure(11);
      if (Number.isInteger(value) && value >= MIN_INT64 && value < MAX_INT64) {
        buf[pos++] = 0x18;
        putVarint64(value);
      } else {
        buf[pos++] = 0x21;
        pos = buf.writeDoubleLE(value, pos);
      }
      return;
    case 'object':
      break;
    default:
      // undefined, bigint, symbol, function: an empty AnyValue, as the serializer writes them.
      return;
  }
  if (value === null) return;
  if (value instanceof Uint8Array) {
    tag(0x3a);
    writeVarint(value.length);
    ensure(value.length);
    buf.set(value, pos);
    pos += value.length;
    return;
  }
  const at = open(Array.isArray(value) ? 0x2a : 0x32, 1);
  writeListContent(value);
  close(at, 1);
}

/** The content of an ArrayValue (values, field 1) or a KeyValueList (values, field 1) for `value`. */
function writeListContent(value: object): void {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item = open(0x0a, 1);
      writeAnyValue(value[i]);
      close(item, 1);
    }
  } else {
    const obj = value as Record<string, unknown>;
    for (const key in obj) if (hasOwn.call(obj, key)) writeKeyValue(0x0a, key, obj[key]);
  }
}

/**
 * HrTime [s, ns] from milliseconds (encode.ts hrTime) and then to fixed64 nanoseconds, with the
 * serializer's exact arithmetic (writeHrTimeAsFixed64), so odd inputs (fractions, negatives) give its bytes.
 */
function writeHrTimeNanos(ms: number): void {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.round((ms - seconds * 1000) * 1e6);
  const secondsLower16Bits = seconds & 0xffff;
  const secondsUpperBits = (seconds / 0x10000) >>> 0;
  const nanosFromLower16Bits = secondsLower16Bits * 1e9;
  const nanosFromUpperBits = secondsUpperBits * 1e9;
  const lower16ContributionLow32 = nanosFromLower16Bits >>> 0;
  const lower16ContributionHigh32 = Math.floor(nanosFromLower16Bits / 0x100000000);
  const upperBitsContributionLow32 = ((nanosFromUpperBits & 0xffff) * 0x10000) >>> 0;
  const upperBitsContributionHigh32 = (nanosFromUpperBits / 0x10000) >>> 0;
  const low32WithCarry = lower16ContributionLow32 + upperBitsContributionLow32 + nanos;
  const low = low32WithCarry >>> 0;
  const carry = Math.floor(low32WithCarry / 0x100000000);
  const high = (lower16ContributionHigh32 + upperBitsContributionHigh32 + carry) >>> 0;
  ensure(8);
  buf[pos++] = low & 0xff;
  buf[pos++] = (low >>> 8) & 0xff;
  buf[pos++] = (low >>> 16) & 0xff;
  buf[pos++] = low >>> 24;
  buf[pos++] = high & 0xff;
  buf[pos++] = (high >>> 8) & 0xff;
  buf[pos++] = (high >>> 16) & 0xff;
  buf[pos++] = high >>> 24;
}

/** A one-byte tag (every tag here is below 128). */
function tag(tagByte: number): void {
  ensure(1);
  buf[pos++] = tagByte;
}

/**
 * A string's length and UTF-8 bytes. Short ASCII strings are copied in JS. Others are written by V8
 * first and measured after: the length gets as many bytes as the shortest possible encoding needs (a
 * UTF-16 unit is at least one UTF-8 byte), and the bytes move up in the rare case that is too few.
 * Lone surrogates become U+FFFD, as with the serializer's TextEncoder.
 */
function writeString(s: string): void {
  // Room for the bytes (at most 3 per unit) and a length one byte longer than reserved.
  ensure(6 + 3 * s.length);
  putString(s);
}

/** writeString without the room check: the caller made room for 6 + 3 × s.length bytes. */
function putString(s: string): void {
  const units = s.length;
  if (units <= SHORT_STRING) {
    // At most 45 bytes: a one-byte length.
    let p = pos + 1;
    let i = 0;
    for (; i < units; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) break;
      buf[p++] = c;
    }
    const written = i === units ? units : utf8Write.call(buf, s, pos + 1, 3 * units);
    buf[pos] = written;
    pos += 1 + written;
    return;
  }
  const reserved = varintSize(units);
  const start = pos + reserved;
  const written = utf8Write.call(buf, s, start, 3 * units);
  const needed = varintSize(written);
  if (needed > reserved) buf.copyWithin(pos + needed, start, start + written);
  pos = putVarint(buf, pos, written) + written;
}

/** The serializer's writeVarint: non-negative numbers up to 2^32-1 fast, others as 64-bit two's complement. */
function writeVarint(value: number): void {
  ensure(10);
  putVarint64(value);
}

/** writeVarint without the room check. */
function putVarint64(value: number): void {
  if (value >= 0 && value <= 0xffffffff) {
    let v = value >>> 0;
    while (v > 127) {
      buf[pos++] = (v & 127) | 128;
      v >>>= 7;
    }
    buf[pos++] = v;
    return;
  }
  let low: number;
  let high: number;
  if (value >= 0) {
    low = value >>> 0;
    high = (value / 0x100000000) >>> 0;
  } else {
    const abs = Math.abs(value);
    low = ~(abs >>> 0) >>> 0;
    high = ~((abs / 0x100000000) >>> 0) >>> 0;
    low = (low + 1) >>> 0;
    if (low === 0) high = (high + 1) >>> 0;
  }
  while (high > 0 || low > 127) {
    buf[pos++] = (low & 127) | 128;
    low = ((low >>> 7) | (high << 25)) >>> 0;
    high >>>= 7;
  }
  buf[pos++] = low & 127;
}

/** Writes `tagByte` and leaves `reserve` bytes for a length; returns where the length goes. */
function open(tagByte: number, reserve: number): number {
  ensure(1 + reserve);
  buf[pos++] = tagByte;
  const at = pos;
  pos += reserve;
  return at;
}

/**
 * Fills in the length of the message whose `reserved` length bytes are at `at` (its content follows
 * them up to here), moving the content when the length needs another number of bytes. Returns that number.
 */
function close(at: number, reserved: number): number {
  const start = at + reserved;
  const length = pos - start;
  if (reserved === 1 && length < 128) {
    buf[at] = length;
    return 1;
  }
  const size = varintSize(length);
  if (size !== reserved) {
    if (size > reserved) ensure(size - reserved);
    buf.copyWithin(at + size, start, pos);
    pos += size - reserved;
  }
  putVarint(buf, at, length);
  return size;
}

function ensure(bytes: number): void {
  if (pos + bytes > buf.length) grow(pos + bytes);
}

function grow(needed: number): void {
  let size = buf.length * 2;
  while (size < needed) size *= 2;
  const grown = Buffer.allocUnsafeSlow(size);
  buf.copy(grown, 0, 0, pos);
  buf = grown;
}

/** Bytes of the varint for a length (a non-negative integer below 2^35). */
function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

/** Writes a length varint at `at`; returns the position after it. */
function putVarint(target: Uint8Array, at: number, n: number): number {
  while (n > 127) {
    target[at++] = (n & 127) | 128;
    n = Math.floor(n / 128);
  }
  target[at++] = n;
  return at;
}
