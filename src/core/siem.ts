/**
 * The attributes Splunk's and Elastic's Collector exporters read to route and deduplicate records
 * (otel-facts.md): Splunk HEC `source` / `sourcetype` / `index` from `com.splunk.*`, the Elastic
 * data stream from `data_stream.*`, and its document `_id` from `elasticsearch.document_id`.
 * Each family can be switched off in config (`export.siem`).
 */
import { z } from 'zod';
import type { AttributeValue } from './record.ts';

export interface SiemOptions {
  /** `false`: no `com.splunk.*` attributes. Unset fields take the source's defaults (index: the HEC token's). */
  splunk?: { source?: string; sourcetype?: string; index?: string } | false;
  /** `false`: no `data_stream.*` / `elasticsearch.document_id`. */
  elastic?: { dataset?: string; namespace?: string; documentId: boolean } | false;
}

/** What a source proposes when the config does not say: chosen per record (e.g. per Google application). */
export interface SiemDefaults {
  splunkSource: string;
  splunkSourcetype: string;
  elasticDataset: string;
}

/**
 * Elastic's data stream naming rules: lowercase, no `-` (it separates type, dataset and namespace),
 * none of `\ / * ? " < > | , #` or spaces, at most 100 bytes.
 */
const dataStreamPart = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[a-z0-9_.]+$/, 'lowercase letters, digits, "_" and "." only (Elastic data stream naming)');

/** `export.siem` in the config file. Every default is here, once. */
export const siemSchema = z
  .object({
    splunk: z
      .union([
        z.literal(false),
        z
          .object({
            source: z.string().min(1).optional().describe('HEC source (default: the stream id, e.g. o365/<tenant>/Audit.Exchange)'),
            sourcetype: z
              .string()
              .min(1)
              .optional()
              .describe('HEC sourcetype (default: o365:management:activity, gws:reports:<application>, as the Splunk add-ons use)'),
            index: z.string().min(1).optional().describe("HEC index (default: none, so the HEC token's default index applies)"),
          })
          .strict(),
      ])
      .prefault({})
      .describe('com.splunk.* attributes for the splunk_hec exporter; false to leave them out'),
    elastic: z
      .union([
        z.literal(false),
        z
          .object({
            dataset: dataStreamPart.optional().describe('data_stream.dataset (default: o365.audit, google_workspace.<application>)'),
            namespace: dataStreamPart.optional().describe('data_stream.namespace (default: none, so the exporter uses "default")'),
            documentId: z.boolean().default(true).describe('Set elasticsearch.document_id to the record uid, so retries overwrite instead of duplicating'),
          })
          .strict(),
      ])
      .prefault({})
      .describe('data_stream.* and elasticsearch.document_id for the elasticsearch exporter; false to leave them out'),
  })
  .strict();

export type SiemConfig = z.infer<typeof siemSchema>;

/** The defaults, as a config without `export.siem` gets them. */
export const DEFAULT_SIEM: SiemOptions = siemSchema.parse({});

/** Adds the hand-off attributes for one record. `uid` is the record's uid (its `log.record.uid`). */
export function addSiemAttributes(
  attributes: Record<string, AttributeValue>,
  uid: string,
  siem: SiemOptions,
  defaults: SiemDefaults,
): void {
  if (siem.splunk !== false) {
    const splunk = siem.splunk ?? {};
    attributes['com.splunk.source'] = splunk.source ?? defaults.splunkSource;
    attributes['com.splunk.sourcetype'] = splunk.sourcetype ?? defaults.splunkSourcetype;
    if (splunk.index) attributes['com.splunk.index'] = splunk.index;
  }
  if (siem.elastic !== false) {
    const elastic = siem.elastic ?? { documentId: true };
    attributes['data_stream.dataset'] = elastic.dataset ?? defaults.elasticDataset;
    if (elastic.namespace) attributes['data_stream.namespace'] = elastic.namespace;
    if (elastic.documentId) attributes['elasticsearch.document_id'] = uid;
  }
}
