/**
 * Turning arbitrary JSON-ish values into OTLP attribute values without silent loss.
 *
 * Records are handed straight to the OTLP serializer, which skips the SDK's `Logger.emit` checks:
 * a Date, bigint, undefined, class instance or nested object in an attribute would be dropped or
 * become `{}` without a word. Every source maps through this module instead.
 *
 * What happens to each kind of value:
 * - string, boolean, finite number: kept as is; NaN and ±Infinity become their string form;
 * - bigint: a number when it is a safe integer, else its decimal string (never rounded);
 * - Date: its ISO 8601 UTC string (or "Invalid Date");
 * - null / undefined: no attribute (the body, which is the raw record, still shows the null);
 * - plain objects: flattened into dotted keys by `flatten`; on their own they have no attribute value;
 * - other objects (class instances): their JSON form, or `String()` when they have no JSON form;
 * - arrays: homogeneous arrays as OTLP requires (all numbers, all booleans or all strings); a mixed
 *   array becomes an array of strings (objects as JSON), null entries are left out.
 */
import type { AttributeValue, BodyValue } from '../../../core/record.ts';

/**
 * The most attributes one record carries. OpenTelemetry SDKs default `attributeCountLimit` to 128;
 * staying under it means a Collector or SDK re-applying the default never drops a mapped attribute.
 */
export const ATTRIBUTE_LIMIT = 128;
/** Room kept for what is added after mapping: log.record.uid and the SIEM hand-off attributes. */
export const RESERVED_ATTRIBUTES = 8;
/** Counts the optional attributes a record could not carry because of the limit (their values stay in the body). */
export const OMITTED_ATTRIBUTES_KEY = 'auditrelay.attributes.omitted';

type Scalar = string | number | boolean;

function scalar(value: unknown): Scalar | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'bigint':
      return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
    default:
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
      return undefined;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A string for anything that has no scalar form: JSON where it has one, else `String()`. */
function asText(value: unknown): string {
  const s = scalar(value);
  if (s !== undefined) return String(s);
  try {
    const json = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    if (json !== undefined && json !== '{}') return json;
  } catch {
    // circular or throwing toJSON: fall through to String()
  }
  return String(value);
}

function toArray(values: readonly unknown[]): AttributeValue {
  const present = values.filter((v) => v !== null && v !== undefined);
  const scalars = present.map(scalar);
  if (scalars.every((s) => typeof s === 'number')) return scalars as number[];
  if (scalars.every((s) => typeof s === 'boolean')) return scalars as boolean[];
  if (scalars.every((s) => typeof s === 'string')) return scalars as string[];
  return present.map(asText);
}

/**
 * The OTLP attribute value for one value, or undefined when it has none here (null, undefined,
 * plain objects: flatten those with `AttributeBag.flatten`).
 */
export function toAttributeValue(value: unknown): AttributeValue | undefined {
  if (value === null || value === undefined) return undefined;
  if (Array.isArray(value)) return toArray(value);
  const s = scalar(value);
  if (s !== undefined) return s;
  if (isPlainObject(value)) return undefined;
  return asText(value);
}

/**
 * Collects one record's attributes. `set` is for the mapped fields (always kept); `extra` is for
 * open-ended ones (the rest of a raw record) and stops at the limit, counting what it left out
 * under `auditrelay.attributes.omitted` so the loss is visible (the values stay in the body).
 */
export class AttributeBag {
  readonly #values: Record<string, AttributeValue> = {};
  #size = 0;
  #omitted = 0;

  /** Sets `key` unless the value has no attribute form or is an empty string (the body keeps those). */
  set(key: string, value: unknown): void {
    const v = toAttributeValue(value);
    if (v === undefined || v === '') return;
    if (!(key in this.#values)) this.#size++;
    this.#values[key] = v;
  }

  has(key: string): boolean {
    return key in this.#values;
  }

  /** Like `set`, within the limit; plain objects are flattened into dotted keys. */
  extra(key: string, value: unknown): void {
    if (isPlainObject(value)) {
      for (const [k, v] of Object.entries(value)) this.extra(`${key}.${k}`, v);
      return;
    }
    const v = toAttributeValue(value);
    if (v === undefined || v === '' || key in this.#values) return;
    if (this.#size >= ATTRIBUTE_LIMIT - RESERVED_ATTRIBUTES) {
      this.#omitted++;
      return;
    }
    this.#size++;
    this.#values[key] = v;
  }

  /** Sets every leaf of a plain object under `prefix` with `set` (for small, bounded objects). */
  flatten(prefix: string, value: unknown): void {
    if (isPlainObject(value)) {
      for (const [k, v] of Object.entries(value)) this.flatten(`${prefix}.${k}`, v);
    } else {
      this.set(prefix, value);
    }
  }

  done(): Record<string, AttributeValue> {
    if (this.#omitted > 0) this.#values[OMITTED_ATTRIBUTES_KEY] = this.#omitted;
    return this.#values;
  }
}

/**
 * JSON.parse that keeps integers beyond 2^53 exact: such a number becomes its decimal string
 * instead of a silently rounded double (an OTLP body cannot carry a bigint). Uses the reviver's
 * source-text access (ES2025), available in Node 26.
 */
export function parseJsonExact(text: string): BodyValue {
  return JSON.parse(text, (_key, value: unknown, context?: { source?: string }) => {
    if (typeof value === 'number' && !Number.isSafeInteger(value) && context?.source && /^-?\d+$/.test(context.source)) {
      return context.source;
    }
    return value;
  }) as BodyValue;
}
