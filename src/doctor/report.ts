import type { Finding, Result } from '../sources/checks.ts';

export type { Finding, Result } from '../sources/checks.ts';

/**
 * What `auditrelay doctor` reports: one finding per check and target, a table for people and JSON
 * for machines. Pure.
 *
 * Exit codes (by the worst result):
 * - 0: every check ok, or only warnings (something to look at, nothing that stops collection);
 * - 1: at least one check failed (collection is or will be broken until the fix hint is applied);
 * - 2: doctor could not run at all (unreadable or invalid config): see `DOCTOR_EXIT`.
 * A `skip` (a check that could not run because an earlier one failed) never changes the code: the
 * failure that caused it already does.
 */
export const DOCTOR_EXIT = { ok: 0, fail: 1, couldNotRun: 2 } as const;

const RANK: Record<Result, number> = { skip: 0, ok: 1, warn: 2, fail: 3 };

export function worst(findings: Finding[]): Result {
  let w: Result = 'ok';
  for (const f of findings) if (f.result !== 'skip' && RANK[f.result] > RANK[w]) w = f.result;
  return w;
}

export function exitCodeOf(findings: Finding[]): number {
  return worst(findings) === 'fail' ? DOCTOR_EXIT.fail : DOCTOR_EXIT.ok;
}

export function summarize(findings: Finding[]): Record<Result, number> {
  const out: Record<Result, number> = { ok: 0, warn: 0, fail: 0, skip: 0 };
  for (const f of findings) out[f.result]++;
  return out;
}

const MAX_DETAIL = 160;

/**
 * Aligned columns CHECK, TARGET, RESULT, DETAIL; the fix hint of a non-ok row on the line below it.
 * Long details are cut in the table (the JSON keeps them whole).
 */
export function renderTable(findings: Finding[]): string {
  const headers = ['CHECK', 'TARGET', 'RESULT', 'DETAIL'];
  const rows = findings.map((f) => [f.check, f.target, f.result.toUpperCase(), cut(f.detail, MAX_DETAIL)]);
  const widths = [0, 1, 2].map((i) => Math.max(headers[i]!.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c)).join('  ').trimEnd();
  const out = [line(headers)];
  findings.forEach((f, i) => {
    out.push(line(rows[i]!));
    if (f.fix && f.result !== 'ok' && f.result !== 'skip') out.push(`${' '.repeat(widths[0]! + 2)}fix: ${f.fix}`);
  });
  const s = summarize(findings);
  out.push('', `${s.ok} ok, ${s.warn} warn, ${s.fail} fail${s.skip ? `, ${s.skip} not checked` : ''}`);
  return `${out.join('\n')}\n`;
}

export function toJson(findings: Finding[]): string {
  return `${JSON.stringify({ result: worst(findings), exitCode: exitCodeOf(findings), summary: summarize(findings), findings }, null, 2)}\n`;
}

function cut(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}
