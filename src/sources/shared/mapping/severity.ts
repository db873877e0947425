/**
 * Severity rules shared by every source (docs/mapping.md): INFO by default, WARN for a failure or
 * a risk signal, and the source's own Low/Medium/High labels (alerts, DLP and data-protection rules).
 */

// SeverityNumber values of the OTel log data model.
export const INFO = 9;
export const WARN = 13;
export const ERROR = 17;

export const SEVERITY_TEXT: Readonly<Record<number, string>> = { [INFO]: 'INFO', [WARN]: 'WARN', [ERROR]: 'ERROR' };

const LABEL_SEVERITY: Readonly<Record<string, number>> = { informational: INFO, low: INFO, medium: WARN, high: ERROR, critical: ERROR };

/** The SeverityNumber of a Low/Medium/High label (case-insensitive); INFO for anything else. */
export function labelSeverity(label: string): number {
  return LABEL_SEVERITY[label.toLowerCase()] ?? INFO;
}
