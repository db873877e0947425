/**
 * DLP rule matches and security alerts: the rule that fired, as `security_rule.*` (OTel) plus the
 * full lists under `o365.dlp.*`, and the severity labels that raise the record's severity.
 */
import type { AttributeValue } from '../../../core/record.ts';

export interface SecuritySignal {
  attributes: Record<string, AttributeValue>;
  /** Severity labels as written (Low, Medium, High, Informational). */
  severities: string[];
}

type Json = Record<string, unknown>;

function objects(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter((v): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v)) : [];
}

function strings(values: unknown[]): string[] {
  return [...new Set(values.filter((v): v is string => typeof v === 'string' && v !== ''))];
}

/**
 * DLP events (`PolicyDetails[].Rules[]`). `security_rule.*` names the first matched rule (the
 * attribute holds one); every policy, rule, action and sensitive type is in the `o365.dlp.*` arrays.
 */
export function extractDlp(raw: Json): SecuritySignal | undefined {
  const policies = objects(raw['PolicyDetails']);
  if (policies.length === 0) return undefined;
  const rules = policies.flatMap((p) => objects(p['Rules']));
  const sensitive = rules.flatMap((rule) => objects((rule['ConditionsMatched'] as Json | undefined)?.['SensitiveInformation']));
  const attributes: Record<string, AttributeValue> = {
    'o365.dlp.policy_ids': strings(policies.map((p) => p['PolicyId'])),
    'o365.dlp.policy_names': strings(policies.map((p) => p['PolicyName'])),
    'o365.dlp.rule_ids': strings(rules.map((r) => r['RuleId'])),
    'o365.dlp.rule_names': strings(rules.map((r) => r['RuleName'])),
    'o365.dlp.actions': strings(rules.flatMap((r) => (Array.isArray(r['Actions']) ? r['Actions'] : []))),
    'o365.dlp.severities': strings(rules.map((r) => r['Severity'])),
    'o365.dlp.sensitive_types': strings(sensitive.map((s) => s['SensitiveType'])),
    'o365.dlp.sensitive_type_names': strings(sensitive.map((s) => s['SensitiveInformationTypeName'])),
  };
  const first = rules[0];
  const firstName = first?.['RuleName'];
  const firstId = first?.['RuleId'];
  const policyName = policies[0]?.['PolicyName'];
  if (typeof firstName === 'string' && firstName) attributes['security_rule.name'] = firstName;
  if (typeof firstId === 'string' && firstId) attributes['security_rule.uuid'] = firstId;
  if (typeof policyName === 'string' && policyName) attributes['security_rule.ruleset.name'] = policyName;
  attributes['security_rule.category'] = 'DataLossPrevention';
  for (const [key, value] of Object.entries(attributes)) {
    if (Array.isArray(value) && value.length === 0) delete attributes[key];
  }
  return { attributes, severities: attributes['o365.dlp.severities'] as string[] | undefined ?? [] };
}

/**
 * Security & Compliance alerts (`AlertTriggered`, `AlertEntityGenerated`, `AlertUpdated`): the
 * alert policy is the rule. Recognised by `AlertId` rather than RecordType, which differs between
 * alert sources (SecurityComplianceAlerts, MCASAlerts...).
 */
export function extractAlert(raw: Json): SecuritySignal | undefined {
  if (typeof raw['AlertId'] !== 'string') return undefined;
  const attributes: Record<string, AttributeValue> = {};
  const pick = (key: string, field: string) => {
    const value = raw[field];
    if (typeof value === 'string' && value !== '') attributes[key] = value;
  };
  pick('security_rule.name', 'Name');
  pick('security_rule.uuid', 'PolicyId');
  pick('security_rule.category', 'Category');
  const severity = raw['Severity'];
  return { attributes, severities: typeof severity === 'string' ? [severity] : [] };
}
