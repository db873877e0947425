/**
 * `export.siem` in the config file: which of the attributes Splunk's and Elastic's exporters read
 * the mappings add (`sources/shared/mapping/siem.ts`). Every default is here, once.
 */
import { z } from 'zod';

/** What the mappings read of `export.siem` (`sources/shared/mapping/siem.ts` adds the attributes). */
export interface SiemOptions {
  /** `false`: no `com.splunk.*` attributes. Unset fields take the source's defaults (index: the HEC token's). */
  splunk?: { source?: string; sourcetype?: string; index?: string } | false;
  /** `false`: no `data_stream.*` / `elasticsearch.document_id`. */
  elastic?: { dataset?: string; namespace?: string; documentId: boolean } | false;
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

export const siemSchema = z
  .object({
    splunk: z
      .union([
        z.literal(false),
        z
          .object({
            source: z.string().min(1).optional().describe('HEC source (default: the stream id, `<kind>/<tenant or customer>/<stream>`)'),
            sourcetype: z
              .string()
              .min(1)
              .optional()
              .describe("HEC sourcetype (default: the source's, as its Splunk add-on names it: docs/mapping.md)"),
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
            dataset: dataStreamPart.optional().describe("data_stream.dataset (default: the source's, as its Elastic integration names it: docs/mapping.md)"),
            namespace: dataStreamPart.optional().describe('data_stream.namespace (default: none, so the exporter uses "default")'),
            documentId: z.boolean().default(true).describe('Set elasticsearch.document_id to the record uid, so retries overwrite instead of duplicating'),
          })
          .strict(),
      ])
      .prefault({})
      .describe('data_stream.* and elasticsearch.document_id for the elasticsearch exporter; false to leave them out'),
  })
  .strict();

/** The defaults, as a config without `export.siem` gets them. */
export const DEFAULT_SIEM: SiemOptions = siemSchema.parse({});
