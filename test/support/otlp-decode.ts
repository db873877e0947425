/**
 * Decodes an OTLP ExportLogsServiceRequest (protobuf or JSON) into plain objects, so tests can
 * check exactly what auditrelay put on the wire. The protobuf side is a small wire-format reader
 * for the fields of logs.proto / common.proto that matter here.
 */
export type Decoded = string | number | boolean | null | Decoded[] | { [k: string]: Decoded };

export interface DecodedLogRecord {
  timeUnixNano: bigint;
  observedTimeUnixNano: bigint;
  severityNumber: number;
  eventName: string;
  body: Decoded;
  attributes: Record<string, Decoded>;
  resource: Record<string, Decoded>;
}

class Reader {
  pos = 0;
  readonly buf: Uint8Array;
  constructor(buf: Uint8Array) {
    this.buf = buf;
  }
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = this.buf[this.pos++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  }
  fixed64(): bigint {
    const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8);
    this.pos += 8;
    return view.getBigUint64(0, true);
  }
  double(): number {
    const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8);
    this.pos += 8;
    return view.getFloat64(0, true);
  }
  bytes(): Uint8Array {
    const len = Number(this.varint());
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  /** Iterates fields: [fieldNumber, wireType]. Values must be read (or skipped) by the caller. */
  *fields(): Generator<[number, number]> {
    while (!this.done) {
      const tag = Number(this.varint());
      yield [tag >>> 3, tag & 7];
    }
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
}

const text = new TextDecoder();

function anyValue(buf: Uint8Array): Decoded {
  const r = new Reader(buf);
  let value: Decoded = null;
  for (const [field, wire] of r.fields()) {
    if (field === 1) value = text.decode(r.bytes());
    else if (field === 2) value = r.varint() !== 0n;
    else if (field === 3) value = Number(BigInt.asIntN(64, r.varint()));
    else if (field === 4) value = r.double();
    else if (field === 5) value = arrayValue(r.bytes());
    else if (field === 6) value = keyValues(r.bytes(), 1);
    else r.skip(wire);
  }
  return value;
}

function arrayValue(buf: Uint8Array): Decoded[] {
  const r = new Reader(buf);
  const out: Decoded[] = [];
  for (const [field, wire] of r.fields()) {
    if (field === 1) out.push(anyValue(r.bytes()));
    else r.skip(wire);
  }
  return out;
}

/** A message whose field `field` repeats KeyValue. */
function keyValues(buf: Uint8Array, field: number): Record<string, Decoded> {
  const r = new Reader(buf);
  const out: Record<string, Decoded> = {};
  for (const [f, wire] of r.fields()) {
    if (f !== field) {
      r.skip(wire);
      continue;
    }
    const kv = new Reader(r.bytes());
    let key = '';
    let value: Decoded = null;
    for (const [kf, kw] of kv.fields()) {
      if (kf === 1) key = text.decode(kv.bytes());
      else if (kf === 2) value = anyValue(kv.bytes());
      else kv.skip(kw);
    }
    out[key] = value;
  }
  return out;
}

function logRecord(buf: Uint8Array, resource: Record<string, Decoded>): DecodedLogRecord {
  const r = new Reader(buf);
  const rec: DecodedLogRecord = { timeUnixNano: 0n, observedTimeUnixNano: 0n, severityNumber: 0, eventName: '', body: null, attributes: {}, resource };
  for (const [field, wire] of r.fields()) {
    if (field === 1) rec.timeUnixNano = r.fixed64();
    else if (field === 11) rec.observedTimeUnixNano = r.fixed64();
    else if (field === 2) rec.severityNumber = Number(r.varint());
    else if (field === 5) rec.body = anyValue(r.bytes());
    else if (field === 6) Object.assign(rec.attributes, keyValues(concatKv(r.bytes()), 1));
    else if (field === 12) rec.eventName = text.decode(r.bytes());
    else r.skip(wire);
  }
  return rec;
}

/** Repeated KeyValue fields arrive one at a time: wrap one back into a field-1 message. */
function concatKv(kvBytes: Uint8Array): Uint8Array {
  const len: number[] = [];
  let n = kvBytes.length;
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n) byte |= 0x80;
    len.push(byte);
  } while (n);
  const out = new Uint8Array(1 + len.length + kvBytes.length);
  out[0] = (1 << 3) | 2;
  out.set(len, 1);
  out.set(kvBytes, 1 + len.length);
  return out;
}

export function decodeProtobufLogs(buf: Uint8Array): DecodedLogRecord[] {
  const out: DecodedLogRecord[] = [];
  const r = new Reader(buf);
  for (const [field, wire] of r.fields()) {
    if (field !== 1) {
      r.skip(wire);
      continue;
    }
    const rl = new Reader(r.bytes());
    let resource: Record<string, Decoded> = {};
    const scopes: Uint8Array[] = [];
    for (const [f, w] of rl.fields()) {
      if (f === 1) resource = keyValues(rl.bytes(), 1);
      else if (f === 2) scopes.push(rl.bytes());
      else rl.skip(w);
    }
    for (const scope of scopes) {
      const sl = new Reader(scope);
      for (const [f, w] of sl.fields()) {
        if (f === 2) out.push(logRecord(sl.bytes(), resource));
        else sl.skip(w);
      }
    }
  }
  return out;
}

type JsonAny = { stringValue?: string; boolValue?: boolean; intValue?: string | number; doubleValue?: number; arrayValue?: { values?: JsonAny[] }; kvlistValue?: { values?: { key: string; value: JsonAny }[] } };

function jsonAny(v: JsonAny | undefined): Decoded {
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(jsonAny);
  if (v.kvlistValue) return Object.fromEntries((v.kvlistValue.values ?? []).map((kv) => [kv.key, jsonAny(kv.value)]));
  return null;
}

export function decodeJsonLogs(body: string): DecodedLogRecord[] {
  const req = JSON.parse(body) as {
    resourceLogs?: { resource?: { attributes?: { key: string; value: JsonAny }[] }; scopeLogs?: { logRecords?: Record<string, unknown>[] }[] }[];
  };
  const out: DecodedLogRecord[] = [];
  for (const rl of req.resourceLogs ?? []) {
    const resource = Object.fromEntries((rl.resource?.attributes ?? []).map((kv) => [kv.key, jsonAny(kv.value)]));
    for (const sl of rl.scopeLogs ?? []) {
      for (const lr of sl.logRecords ?? []) {
        out.push({
          timeUnixNano: BigInt(String(lr.timeUnixNano ?? 0)),
          observedTimeUnixNano: BigInt(String(lr.observedTimeUnixNano ?? 0)),
          severityNumber: Number(lr.severityNumber ?? 0),
          eventName: String(lr.eventName ?? ''),
          body: jsonAny(lr.body as JsonAny),
          attributes: Object.fromEntries(((lr.attributes as { key: string; value: JsonAny }[]) ?? []).map((kv) => [kv.key, jsonAny(kv.value)])),
          resource,
        });
      }
    }
  }
  return out;
}

const UID_KEY = new TextEncoder().encode('log.record.uid');

/**
 * The `log.record.uid` of every record of a protobuf ExportLogsServiceRequest, in order, without
 * decoding anything else (benchmarks: the sink with `keepRecords: false`). It walks the framing
 * ResourceLogs → ScopeLogs → LogRecord → KeyValue and skips every other field by its length, bodies
 * included; only the uid's bytes become a string. Framing is checked more strictly than
 * decodeProtobufLogs does (no length or varint may run past its message, no group or unknown wire
 * type), so a broken body throws. Returns undefined when a record's uid is not exactly one string
 * value as decodeProtobufLogs would read it (absent, or not a string): the caller decodes fully then.
 */
export function protobufLogUids(bytes: Uint8Array): string[] | undefined {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const uids: string[] = [];
  let pos = 0;

  const varint = (end: number): number => {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= end) throw new Error('varint runs past its message');
      const byte = buf[pos++] as number;
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 128;
    }
    throw new Error('varint longer than 10 bytes');
  };
  /** Reads a length prefix; returns the end of the field's bytes. */
  const lengthEnd = (end: number): number => {
    const len = varint(end);
    if (len > end - pos) throw new Error(`length ${len} runs past its message`);
    return pos + len;
  };
  const skip = (wire: number, end: number): void => {
    if (wire === 0) varint(end);
    else if (wire === 2) pos = lengthEnd(end);
    else if (wire === 1 || wire === 5) {
      const size = wire === 1 ? 8 : 4;
      if (size > end - pos) throw new Error('fixed field runs past its message');
      pos += size;
    } else throw new Error(`unsupported wire type ${wire}`);
  };
  /** Calls `onField(field, end)` for each length-delimited field in `want`; skips the rest. */
  const each = (end: number, want: number, onField: (fieldEnd: number) => void): void => {
    while (pos < end) {
      const tag = varint(end);
      const field = Math.floor(tag / 8);
      const wire = tag & 7;
      if (field === want && wire === 2) {
        const fieldEnd = lengthEnd(end);
        onField(fieldEnd);
        pos = fieldEnd;
      } else if (field === want) throw new Error(`field ${field} has wire type ${wire}, not 2`);
      else skip(wire, end);
    }
  };
  const isUidKey = (start: number, end: number): boolean => {
    if (end - start !== UID_KEY.length) return false;
    for (let i = 0; i < UID_KEY.length; i++) if (buf[start + i] !== UID_KEY[i]) return false;
    return true;
  };

  let complete = true;
  const logRecord = (end: number): void => {
    // As decodeProtobufLogs: the last uid attribute wins, and within a value the last field read.
    let uid: string | undefined;
    let uidIsString = false;
    while (pos < end) {
      const tag = varint(end);
      const field = Math.floor(tag / 8);
      const wire = tag & 7;
      if (field !== 6) {
        skip(wire, end);
        continue;
      }
      if (wire !== 2) throw new Error(`field 6 has wire type ${wire}, not 2`);
      const kvEnd = lengthEnd(end);
      let keyStart = 0;
      let keyEnd = 0;
      let valueStart = -1;
      let valueEnd = -1;
      while (pos < kvEnd) {
        const kvTag = varint(kvEnd);
        const kf = Math.floor(kvTag / 8);
        const kw = kvTag & 7;
        if ((kf === 1 || kf === 2) && kw !== 2) throw new Error(`KeyValue field ${kf} has wire type ${kw}, not 2`);
        if (kf === 1) {
          keyEnd = lengthEnd(kvEnd);
          keyStart = pos;
          pos = keyEnd;
        } else if (kf === 2) {
          valueEnd = lengthEnd(kvEnd);
          valueStart = pos;
          pos = valueEnd;
        } else skip(kw, kvEnd);
      }
      if (!isUidKey(keyStart, keyEnd)) continue;
      // An AnyValue: field 1 string; 2..6 other kinds (none: null).
      uid = undefined;
      uidIsString = false;
      if (valueStart < 0) continue;
      pos = valueStart;
      while (pos < valueEnd) {
        const vTag = varint(valueEnd);
        const vf = Math.floor(vTag / 8);
        const vw = vTag & 7;
        if (vf === 1 && vw === 2) {
          const sEnd = lengthEnd(valueEnd);
          uid = buf.toString('utf8', pos, sEnd);
          uidIsString = true;
          pos = sEnd;
        } else {
          if (vf >= 1 && vf <= 6) uidIsString = false;
          skip(vw, valueEnd);
        }
      }
      pos = kvEnd;
    }
    if (uidIsString && uid !== undefined) uids.push(uid);
    else complete = false;
  };

  each(buf.length, 1, (resourceEnd) => each(resourceEnd, 2, (scopeEnd) => each(scopeEnd, 2, logRecord)));
  return complete ? uids : undefined;
}
