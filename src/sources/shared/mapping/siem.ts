/**
 * The attributes Splunk's and Elastic's Collector exporters read to route and deduplicate records
 * (otel-facts.md): Splunk HEC `source` / `sourcetype` / `index` from `com.splunk.*`, the Elastic
 * data stream from `data_stream.*`, and its document `_id` from `elasticsearch.document_id`.
 * Each family can be switched off in config (`export.siem`, `config-kit/siem.ts`).
 */
import type { SiemOptions } from '../../../config-kit/siem.ts';
import type { AttributeValue } from '../../../core/record.ts';

export type { SiemOptions } from '../../../config-kit/siem.ts';

/** What a source proposes when the config does not say: chosen per record (e.g. per application). */
export interface SiemDefaults {
  splunkSource: string;
  splunkSourcetype: string;
  elasticDataset: string;
}

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
