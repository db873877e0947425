/**
 * The source-neutral shape every source maps its raw records to. The export layer turns
 * these into OTLP LogRecords; nothing downstream looks at source-specific fields.
 */

/** An attribute value OTLP can carry without loss (no Date, bigint, undefined or class instances). */
export type AttributeValue = string | number | boolean | string[] | number[] | boolean[];

/** A body value: any JSON value (the raw record, unchanged). */
export type BodyValue = null | string | number | boolean | BodyValue[] | { [key: string]: BodyValue };

export interface AuditRecord {
  /** Stable across re-fetches and re-polls: becomes `log.record.uid` so sinks can drop duplicates. */
  uid: string;
  /** When the event happened at the source, Unix epoch milliseconds (UTC). */
  timeUnixMs: number;
  /** When the connector saw it, Unix epoch milliseconds. */
  observedUnixMs: number;
  /** Low-cardinality event name (OTLP EventName). */
  eventName: string;
  severityNumber?: number;
  severityText?: string;
  /** Flat, dotted attribute keys (Elasticsearch maps nested maps as `flattened`). */
  attributes: Record<string, AttributeValue>;
  /** The raw record as the API produced it. */
  body: BodyValue;
}
