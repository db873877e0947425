import type { AnyValue, Attributes, HrTime } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import { detectResources, envDetector, type Resource, resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import type { AuditRecord } from '../core/record.ts';
import { VERSION } from '../version.ts';
import { encodeLogsProtobuf } from './protobuf-logs.ts';

/**
 * AuditRecord -> OTLP. http/json goes through OpenTelemetry's own serializer (the one the OTLP
 * exporters use); http/protobuf through encodeLogsProtobuf, which writes the same bytes as
 * OpenTelemetry's ProtobufLogsSerializer in a fraction of the time (test/export/protobuf-logs.test.ts).
 */

const SCOPE: InstrumentationScope = { name: 'auditrelay', version: VERSION };

/** Resource objects must be reused: the serializer groups records by object identity. */
export class ResourceCache {
  readonly #base: Resource;
  readonly #cache = new Map<string, Resource>();

  /** `base` carries service.* and OTEL_RESOURCE_ATTRIBUTES / OTEL_SERVICE_NAME. */
  constructor(base: Resource = defaultResource()) {
    this.#base = base;
  }

  for(attributes: Record<string, string>): Resource {
    const key = JSON.stringify(attributes);
    let resource = this.#cache.get(key);
    if (!resource) {
      // Source identity is added under the base, so an operator's OTEL_RESOURCE_ATTRIBUTES cannot erase it,
      // while service.name stays the operator's choice.
      resource = this.#base.merge(resourceFromAttributes(attributes));
      this.#cache.set(key, resource);
    }
    return resource;
  }
}

/** service.name defaults to "auditrelay"; OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override. */
export function defaultResource(): Resource {
  const defaults = resourceFromAttributes({ 'service.name': 'auditrelay', 'service.version': VERSION });
  return defaults.merge(detectResources({ detectors: [envDetector] }));
}

function hrTime(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

export function toLogRecord(record: AuditRecord, resource: Resource): ReadableLogRecord {
  const attributes: Attributes = { ...record.attributes, 'log.record.uid': record.uid };
  return {
    hrTime: hrTime(record.timeUnixMs),
    hrTimeObserved: hrTime(record.observedUnixMs),
    severityNumber: record.severityNumber,
    severityText: record.severityText,
    body: record.body as AnyValue,
    eventName: record.eventName,
    resource,
    instrumentationScope: SCOPE,
    attributes,
    droppedAttributesCount: 0,
  };
}

export type Encoding = 'http/protobuf' | 'http/json';

/** The ExportLogsServiceRequest for `records`, all under `resource` (from a ResourceCache). */
export function encodeRecords(records: readonly AuditRecord[], resource: Resource, encoding: Encoding): Uint8Array {
  if (encoding === 'http/protobuf') return encodeLogsProtobuf(resource, SCOPE, records);
  return encodeRequest(records.map((r) => toLogRecord(r, resource)), encoding);
}

export function encodeRequest(records: ReadableLogRecord[], encoding: Encoding): Uint8Array {
  const serializer = encoding === 'http/json' ? JsonLogsSerializer : ProtobufLogsSerializer;
  const bytes = serializer.serializeRequest(records);
  if (!bytes) throw new Error('OTLP serializer returned nothing');
  return bytes;
}

export function decodeResponse(bytes: Uint8Array, encoding: Encoding): { rejectedLogRecords?: number; errorMessage?: string } {
  if (bytes.byteLength === 0) return {};
  const serializer = encoding === 'http/json' ? JsonLogsSerializer : ProtobufLogsSerializer;
  const response = serializer.deserializeResponse(bytes);
  const partial = response.partialSuccess;
  if (!partial) return {};
  return { rejectedLogRecords: Number(partial.rejectedLogRecords ?? 0), errorMessage: partial.errorMessage };
}
