import { DEFAULT_SIEM } from '../../../config-kit/siem.ts';
import type { PreviewMap } from '../../entry.ts';
import { isObject } from '../../shared/mapping/flatten.ts';
import { mapO365Record, o365Resource } from './index.ts';

type Json = Record<string, unknown>;

/** The content type a record's workload is published under, when the user did not say. */
function contentTypeOf(record: Json): string {
  // DlpRuleMatch, DlpRuleUndo, DlpInfo; SharePoint and OneDrive write DLPRuleMatch.
  if (Array.isArray(record['PolicyDetails']) && /^dlp/i.test(String(record['Operation'] ?? ''))) return 'DLP.All';
  switch (record['Workload']) {
    case 'AzureActiveDirectory':
      return 'Audit.AzureActiveDirectory';
    case 'Exchange':
      return 'Audit.Exchange';
    case 'SharePoint':
    case 'OneDrive':
      return 'Audit.SharePoint';
    default:
      return 'Audit.General';
  }
}

/** `auditrelay preview --source o365`: one record of a content blob, its tenant and content type from the record unless given. */
export const previewO365: PreviewMap = (raw, options, observedUnixMs) => {
  const fields = isObject(raw) ? raw : {};
  const tenantId = (options['tenant'] as string | undefined) ?? (typeof fields['OrganizationId'] === 'string' ? fields['OrganizationId'] : 'unknown-tenant');
  const contentType = (options['contentType'] as string | undefined) ?? contentTypeOf(fields);
  return { records: [mapO365Record(raw, { tenantId, contentType, observedUnixMs, siem: DEFAULT_SIEM })], resource: o365Resource(tenantId) };
};
