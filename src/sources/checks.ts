import { redactText } from '../secrets/redact.ts';

/**
 * What a source's doctor checks report (`auditrelay doctor`): one finding per check and target. The
 * table, the JSON and the exit code are `doctor/report.ts`'s.
 */
export type Result = 'ok' | 'warn' | 'fail' | 'skip';

export interface Finding {
  /** Stable check name, `<kind>.<check>` for a source's (`<kind>.token`), `export.reachable`. */
  check: string;
  /** What was checked: `<kind>:<name>` (a tenant, a customer), `<kind>:<name>/<stream>`, `export`. */
  target: string;
  result: Result;
  detail: string;
  /** What to do about it: present on every warn and fail. */
  fix?: string;
}

/** A finding, with every text scrubbed of registered secrets (a library message can carry one). */
export function finding(check: string, target: string, result: Result, detail: string, fix?: string): Finding {
  return { check, target, result, detail: redactText(detail), ...(fix !== undefined && result !== 'ok' ? { fix: redactText(fix) } : {}) };
}

/** The same skip for several checks that depend on a failed one. */
export function skipped(checks: string[], target: string, because: string): Finding[] {
  return checks.map((check) => finding(check, target, 'skip', `not checked: ${because}`));
}
