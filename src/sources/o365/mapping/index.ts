/**
 * Office 365 Management Activity API record -> AuditRecord. docs/mapping.md explains every name.
 * One pure function of the raw record and its stream, shared by the daemon and `auditrelay preview`.
 */
import { AttributeBag } from '../../shared/mapping/attributes.ts';
import type { AuditRecord, BodyValue } from '../../../core/record.ts';
import { addSiemAttributes, type SiemOptions } from '../../shared/mapping/siem.ts';
import { parseClientAddress } from '../../shared/mapping/client-ip.ts';
import { extractDlp, extractAlert } from './security.ts';
import { flattenRaw, isObject } from '../../shared/mapping/flatten.ts';
import { recordTypeName } from './record-types.ts';
import { INFO, WARN, SEVERITY_TEXT, labelSeverity } from '../../shared/mapping/severity.ts';
import { text } from '../../shared/mapping/text.ts';
import { parseUtcDateTime } from '../../shared/mapping/time.ts';
import { o365RecordUid } from './uid.ts';
import { userTypeName } from './user-types.ts';

export interface O365MappingContext {
  tenantId: string;
  /** The subscription content type the record came from, e.g. `Audit.Exchange`. */
  contentType: string;
  observedUnixMs: number;
  siem: SiemOptions;
}

/** Resource attributes of an Office 365 stream: which source, which tenant (service.* come from the base resource). */
export function o365Resource(tenantId: string): Record<string, string> {
  return { 'auditrelay.source': 'o365', 'o365.tenant.id': tenantId };
}

/** Raised for a record that cannot become an AuditRecord; the message names the field. */
export class O365MappingError extends Error {
  override readonly name = 'O365MappingError';
}



/**
 * Fields whose value is carried verbatim by a standard attribute or by the record itself,
 * so they are not repeated under `o365.audit.*`.
 */
const MOVED = new Set(['Id', 'CreationTime', 'UserId', 'UserKey', 'UserAgent']);

/** One address, `local@domain`: a UPN or mailbox, not `NT AUTHORITY\SYSTEM` or `app@sharepoint` (no dot in the domain). */
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

function integer(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) return Number(value);
  return undefined;
}

/** Looks a name up in a name/value list (`ExtendedProperties`, `DeviceProperties`). */
function nameValue(list: unknown, name: string): string | undefined {
  if (!Array.isArray(list)) return undefined;
  for (const entry of list) {
    if (entry && typeof entry === 'object' && (entry as Record<string, unknown>)['Name'] === name) {
      return text((entry as Record<string, unknown>)['Value']);
    }
  }
  return undefined;
}

/**
 * Exchange's `ClientInfoString` is `Client=<kind>;<user agent>` (or only `Client=<kind>`):
 * the part after the `Client=` segments is a user agent when there is one.
 */
function userAgentFromClientInfo(info: string | undefined): string | undefined {
  if (!info) return undefined;
  const rest = info.replace(/^(?:\s*Client=[^;]*;?)+/i, '').replace(/;+\s*$/, '').trim();
  return rest.includes('/') ? rest : undefined;
}

type Outcome = 'success' | 'failure' | 'unknown';

interface Result {
  outcome: Outcome;
  errorType?: string;
}

/**
 * Did it succeed? `ResultStatus` says so for most workloads (Exchange admin: True/False), but for
 * Entra STS logons it only reports the HTTP exchange: a failed sign-in is `UserLoginFailed`, a
 * non-empty `LogonError` or an `ErrorCode` other than 0.
 */
function result(raw: Record<string, unknown>): Result {
  const status = text(raw['ResultStatus']);
  const logonError = text(raw['LogonError']);
  const errorCode = text(raw['ErrorCode']);
  const operation = text(raw['Operation']);
  if (operation === 'UserLoginFailed' || logonError || (errorCode !== undefined && errorCode !== '0')) {
    return { outcome: 'failure', errorType: logonError ?? (errorCode !== '0' ? errorCode : undefined) ?? status ?? 'UserLoginFailed' };
  }
  switch (status?.toLowerCase()) {
    case 'succeeded':
    case 'success':
    case 'true':
      return { outcome: 'success' };
    case 'failed':
    case 'failure':
    case 'false':
    case 'partiallysucceeded':
      // A partial success is a failure of part of the operation: analysts need to see it.
      return { outcome: 'failure', errorType: status };
    default:
      return { outcome: 'unknown' };
  }
}

/**
 * Maps one record. Throws `O365MappingError` when the record cannot be mapped at all (not an
 * object, no `Id`, unreadable `CreationTime`); anything else odd but valid (unknown RecordType,
 * missing optional fields, weird IPs) maps, with the raw value kept.
 */
export function mapO365Record(raw: unknown, ctx: O365MappingContext): AuditRecord {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new O365MappingError(`record is not a JSON object (got ${Array.isArray(raw) ? 'an array' : raw === null ? 'null' : typeof raw})`);
  }
  const r = raw as Record<string, unknown>;
  const uid = o365RecordUid(r);
  if (uid === undefined) throw new O365MappingError(`record has no Id (a GUID string): ${JSON.stringify(r['Id'] ?? null)}`);
  let timeUnixMs: number;
  try {
    // CreationTime is UTC written without a zone.
    timeUnixMs = parseUtcDateTime(r['CreationTime'], 'CreationTime');
  } catch (err) {
    throw new O365MappingError(`record ${uid}: ${(err as Error).message}`);
  }

  const bag = new AttributeBag();
  const recordType = integer(r['RecordType']);
  const typeName = recordType === undefined ? 'RecordTypeUnknown' : recordTypeName(recordType);

  // Who.
  const userId = text(r['UserId']);
  bag.set('user.name', userId);
  bag.set('user.id', text(r['UserKey']));
  // A UPN is also the user's address: the same attribute other sources' records carry, and Elastic's user.email.
  if (userId && EMAIL.test(userId)) bag.set('user.email', userId);
  const userType = integer(r['UserType']);
  if (userType !== undefined) bag.set('o365.user_type.name', userTypeName(userType));

  // From where: the first of the three IP fields that holds an IP address.
  for (const field of ['ClientIP', 'ClientIPAddress', 'ActorIpAddress']) {
    const client = parseClientAddress(r[field]);
    if (client) {
      bag.set('client.address', client.address);
      bag.set('client.port', client.port);
      break;
    }
  }
  const extended = r['ExtendedProperties'];
  bag.set(
    'user_agent.original',
    text(r['UserAgent']) ?? nameValue(extended, 'UserAgent') ?? userAgentFromClientInfo(text(r['ClientInfoString'])),
  );
  const appContext = r['AppAccessContext'] as Record<string, unknown> | undefined;
  bag.set('session.id', text(appContext?.['AADSessionId']) ?? nameValue(r['DeviceProperties'], 'SessionId'));

  // What, on which object.
  bag.set('o365.record_type.name', typeName);
  bag.set('o365.content_type', ctx.contentType);
  const objectId = text(r['ObjectId']);
  if (objectId && /^https?:\/\//i.test(objectId)) bag.set('url.full', objectId);
  const fileName = text(r['SourceFileName']);
  if (fileName) {
    bag.set('file.name', fileName);
    bag.set('file.extension', text(r['SourceFileExtension']));
    bag.set('file.directory', text(r['SourceRelativeUrl']));
    if (objectId) bag.set('file.path', objectId);
  } else {
    // DLP matches in SharePoint and OneDrive name the file in SharePointMetaData (ObjectId is a GUID).
    const meta = r['SharePointMetaData'];
    if (isObject(meta)) {
      const url = text(meta['FilePathUrl']);
      bag.set('file.name', text(meta['FileName']));
      if (url && /^https?:\/\//i.test(url)) {
        if (!bag.has('url.full')) bag.set('url.full', url);
        bag.set('file.path', url);
      }
    }
  }

  // Did it succeed.
  const { outcome, errorType } = result(r);
  bag.set('event.outcome', outcome);
  bag.set('error.type', errorType);
  let severity = outcome === 'failure' ? WARN : INFO;

  // Security signals: DLP rule matches and alerts name the rule; their severity lifts the record's.
  for (const signal of [extractDlp(r), extractAlert(r)]) {
    if (!signal) continue;
    for (const [key, value] of Object.entries(signal.attributes)) bag.set(key, value);
    for (const label of signal.severities) severity = Math.max(severity, labelSeverity(label));
  }

  // Everything else, under Microsoft's own names.
  for (const [key, value] of Object.entries(r)) {
    if (!MOVED.has(key)) flattenRaw(bag, `o365.audit.${key}`, value);
  }

  const attributes = bag.done();
  addSiemAttributes(attributes, uid, ctx.siem, {
    splunkSource: `o365/${ctx.tenantId}/${ctx.contentType}`,
    splunkSourcetype: 'o365:management:activity',
    elasticDataset: 'o365.audit',
  });
  return {
    uid,
    timeUnixMs,
    observedUnixMs: ctx.observedUnixMs,
    eventName: `o365.${typeName}`,
    severityNumber: severity,
    severityText: SEVERITY_TEXT[severity],
    attributes,
    body: raw as BodyValue,
  };
}
