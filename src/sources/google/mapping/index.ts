/**
 * Google Workspace Reports API activity -> one AuditRecord per entry of `events[]`.
 * docs/mapping.md explains every name. Shared by the daemon and `auditrelay preview`.
 *
 * The IP, time, text, severity and raw-flattening helpers are the shared mapping kit's
 * (`sources/shared/mapping/`): every source meets the same problems (ports and brackets in IPs,
 * zone-less times, nested lists) and they must agree.
 */
import { AttributeBag } from '../../shared/mapping/attributes.ts';
import type { AuditRecord, BodyValue } from '../../../core/record.ts';
import { addSiemAttributes, type SiemOptions } from '../../shared/mapping/siem.ts';
import { parseClientAddress } from '../../shared/mapping/client-ip.ts';
import { flattenRaw, isObject } from '../../shared/mapping/flatten.ts';
import { INFO, WARN, SEVERITY_TEXT, labelSeverity } from '../../shared/mapping/severity.ts';
import { text } from '../../shared/mapping/text.ts';
import { parseUtcDateTime } from '../../shared/mapping/time.ts';
import { parameterText, parameterValue, setParameters } from './parameters.ts';
import { googleEventUid } from './uid.ts';

export interface GoogleMappingContext {
  customerId: string;
  /** The application polled (`login`, `drive`...); `id.applicationName` wins when present. */
  application: string;
  observedUnixMs: number;
  siem: SiemOptions;
}

/** Resource attributes of a Google Workspace stream: which source, which customer (service.* come from the base resource). */
export function googleResource(customerId: string): Record<string, string> {
  return { 'auditrelay.source': 'google_workspace', 'google_workspace.customer.id': customerId };
}

/** Raised for an activity that cannot become AuditRecords; the message names the field. */
export class GoogleMappingError extends Error {
  override readonly name = 'GoogleMappingError';
}


/**
 * Login events Google raises about a risk to the account, not a plain success or failure: they
 * must stand out even though nothing "failed". (Reports API login event names.)
 */
const RISK_EVENTS = new Set([
  'suspicious_login',
  'suspicious_login_less_secure_app',
  'suspicious_programmatic_login',
  'gov_attack_warning',
  'account_disabled_hijacked',
  'account_disabled_password_leak',
  'account_disabled_spamming',
  'account_disabled_spamming_through_relay',
  'account_disabled_generic',
  'leaked_password',
  'risky_sensitive_action_blocked',
]);

/** Activity fields carried by the record itself or by standard attributes, not repeated under google_workspace.*. */
const MOVED = new Set(['events', 'kind', 'etag']);

type Json = Record<string, unknown>;
/** Members already carried by user.*, the record's timestamp and google_workspace.application. */
const MOVED_MEMBERS: Record<string, string[]> = { actor: ['email', 'profileId'], id: ['time', 'applicationName'] };

function withoutMoved(key: string, value: unknown): unknown {
  const moved = MOVED_MEMBERS[key];
  if (!moved || value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).filter(([k]) => !moved.includes(k)));
}
type Outcome = 'success' | 'failure' | 'unknown';

function outcomeOf(application: string, event: Json): { outcome: Outcome; errorType?: string } {
  const status = event['status'] as Json | undefined;
  const eventStatus = text(status?.['eventStatus']);
  if (eventStatus === 'FAILED') return { outcome: 'failure', errorType: text(status?.['errorCode']) ?? 'FAILED' };
  if (eventStatus === 'SUCCEEDED' || eventStatus === 'SUCCEEDED_WITH_WARNINGS') return { outcome: 'success' };
  const name = text(event['name']);
  const params = event['parameters'];
  if (application === 'login' || application === 'saml') {
    if (name === 'login_failure') {
      const why = parameterValue(params, 'login_failure_type') ?? parameterValue(params, 'failure_type');
      return { outcome: 'failure', errorType: typeof why === 'string' ? why : 'login_failure' };
    }
    if (name === 'login_success') return { outcome: 'success' };
    if (name === 'login_verification' || name === 'login_challenge') {
      const challenge = parameterValue(params, 'login_challenge_status');
      if (typeof challenge === 'string' && /fail/i.test(challenge)) return { outcome: 'failure', errorType: 'login_challenge_failed' };
      if (typeof challenge === 'string' && /pass/i.test(challenge)) return { outcome: 'success' };
    }
  }
  return { outcome: 'unknown' };
}

function severityOf(event: Json, outcome: Outcome): number {
  let severity = outcome === 'failure' ? WARN : INFO;
  const name = text(event['name']) ?? '';
  const params = event['parameters'];
  if (RISK_EVENTS.has(name) || parameterValue(params, 'is_suspicious') === true) severity = Math.max(severity, WARN);
  const label = parameterValue(params, 'severity');
  if (typeof label === 'string') severity = Math.max(severity, labelSeverity(label));
  return severity;
}

/**
 * Maps one activity to one record per event. Throws `GoogleMappingError` for an activity that
 * cannot be mapped (not an object, no readable `id.time`, no `events`); odd but valid content
 * (unknown applications, missing actor or IP, unknown parameter kinds) maps, the raw value kept.
 */
export function mapGoogleActivity(activity: unknown, ctx: GoogleMappingContext): AuditRecord[] {
  if (activity === null || typeof activity !== 'object' || Array.isArray(activity)) {
    throw new GoogleMappingError(`activity is not a JSON object (got ${Array.isArray(activity) ? 'an array' : activity === null ? 'null' : typeof activity})`);
  }
  const a = activity as Json;
  const id = (a['id'] ?? {}) as Json;
  let timeUnixMs: number;
  try {
    timeUnixMs = parseUtcDateTime(id['time'], 'id.time');
  } catch (err) {
    throw new GoogleMappingError(`activity ${JSON.stringify(id['uniqueQualifier'] ?? null)}: ${(err as Error).message}`);
  }
  // The API always sends a list. One event as an object is an activity already split per event, the
  // way Elastic's input and some exports store them: it maps as that one event, the body unchanged.
  const split = isObject(a['events']);
  const events = split ? [a['events']] : a['events'];
  if (!Array.isArray(events) || events.length === 0) {
    throw new GoogleMappingError(`activity ${JSON.stringify(id['uniqueQualifier'] ?? null)} at ${String(id['time'])}: no events[] to map`);
  }
  const application = text(id['applicationName']) ?? ctx.application;
  const customerId = text(id['customerId']) ?? ctx.customerId;
  const uidKey = { customerId, applicationName: application, time: String(id['time']), uniqueQualifier: text(id['uniqueQualifier']) ?? '' };
  const actor = (a['actor'] ?? {}) as Json;
  const client = parseClientAddress(a['ipAddress']);

  return events.map((raw, index) => {
    const event = isObject(raw) ? raw : {};
    const name = text(event['name']) ?? '';
    const type = text(event['type']);
    // A split event's position in its activity is unknown: its content tells it from its siblings.
    const uid = split ? googleEventUid(uidKey, 0, `${name}\n${JSON.stringify(raw)}`) : googleEventUid(uidKey, index, name);
    const bag = new AttributeBag();

    // Who, from where.
    bag.set('user.email', text(actor['email']));
    bag.set('user.id', text(actor['profileId']));
    if (client) {
      bag.set('client.address', client.address);
      bag.set('client.port', client.port);
    }

    // What: the application, the event, every parameter typed under the application's namespace.
    bag.set('google_workspace.application', application);
    bag.set('google_workspace.event.type', type);
    bag.set('google_workspace.event.name', name);
    const { outcome, errorType } = outcomeOf(application, event);
    bag.set('event.outcome', outcome);
    bag.set('error.type', errorType);
    if (application === 'rules') {
      // A DLP / data-protection rule fired: name it as OTel's security_rule, as every source's DLP matches are.
      bag.set('security_rule.name', parameterText(event['parameters'], 'rule_name'));
      bag.set('security_rule.uuid', parameterText(event['parameters'], 'rule_resource_name'));
    }
    if (application === 'drive') {
      // The document's title is its file name, as for SharePoint and OneDrive files.
      bag.set('file.name', parameterText(event['parameters'], 'doc_title'));
    }
    setParameters(bag, `google_workspace.${application}`, event['parameters']);
    setParameters(bag, `google_workspace.${application}`, event['sensitiveParameters']);
    flattenRaw(bag, 'google_workspace.event.status', event['status']);
    flattenRaw(bag, 'google_workspace.event.resourceIds', event['resourceIds']);

    // The rest of the activity, under Google's own names (actor, id, networkInfo, resourceDetails...).
    for (const [key, value] of Object.entries(a)) {
      if (!MOVED.has(key)) flattenRaw(bag, `google_workspace.${key}`, withoutMoved(key, value));
    }

    const attributes = bag.done();
    addSiemAttributes(attributes, uid, ctx.siem, {
      splunkSource: `google/${customerId}/${application}`,
      splunkSourcetype: `gws:reports:${application}`,
      elasticDataset: `google_workspace.${application.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`,
    });
    const severity = severityOf(event, outcome);
    return {
      uid,
      timeUnixMs,
      observedUnixMs: ctx.observedUnixMs,
      eventName: type ? `google_workspace.${application}.${type}` : `google_workspace.${application}`,
      severityNumber: severity,
      severityText: SEVERITY_TEXT[severity],
      attributes,
      // The activity as Google sent it, with `events` holding only this event.
      body: (split ? a : { ...a, events: [raw] }) as BodyValue,
    };
  });
}
