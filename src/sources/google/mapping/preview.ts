import { DEFAULT_SIEM } from '../../../config-kit/siem.ts';
import type { PreviewMap } from '../../entry.ts';
import { isObject } from '../../shared/mapping/flatten.ts';
import { googleResource, mapGoogleActivity } from './index.ts';

/** `auditrelay preview --source google`: one activity, its customer and application from its `id` unless given. */
export const previewGoogle: PreviewMap = (raw, options, observedUnixMs) => {
  const fields = isObject(raw) ? raw : {};
  const id = isObject(fields['id']) ? fields['id'] : {};
  const customerId = (options['customer'] as string | undefined) ?? (typeof id['customerId'] === 'string' ? id['customerId'] : 'my_customer');
  const application = (options['application'] as string | undefined) ?? (typeof id['applicationName'] === 'string' ? id['applicationName'] : 'unknown');
  return { records: mapGoogleActivity(raw, { customerId, application, observedUnixMs, siem: DEFAULT_SIEM }), resource: googleResource(customerId) };
};

/** An `activities.list` page (`{kind, items: [...]}`): its items, none for an empty window; undefined for anything else. */
export function activitiesOfPage(value: unknown): unknown[] | undefined {
  if (!isObject(value)) return undefined;
  if (Array.isArray(value['items']) && !('Id' in value)) return value['items'];
  return String(value['kind'] ?? '') === 'admin#reports#activities' ? [] : undefined;
}
