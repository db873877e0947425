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
