import { parseRetryAfter } from '../core/backoff.ts';

/**
 * What one OTLP/HTTP answer means for the records in that request. Pure: status and headers in,
 * decision out. The OTLP spec retries only 429/502/503/504; a durable pipeline also waits out
 * other 5xx and auth/routing errors (401/403/404), because dropping data over a collector's bad
 * minute or an expired token would be worse than a repeated request. Only an answer that says the
 * data itself is bad (400, 413 on a single record, 422, a partial success) refuses records for good.
 */
export type ExportOutcome =
  | { kind: 'accepted' }
  | { kind: 'partial'; rejected: number; message: string }
  | { kind: 'retry'; afterMs?: number; reason: string; misconfigured?: boolean }
  | { kind: 'too-large'; reason: string }
  | { kind: 'bad-data'; reason: string };

export function classifyResponse(
  status: number,
  retryAfter: string | null | undefined,
  partial: { rejectedLogRecords?: number; errorMessage?: string },
  bodyText: string,
  now: number,
): ExportOutcome {
  if (status >= 200 && status < 300) {
    const rejected = partial.rejectedLogRecords ?? 0;
    if (rejected > 0) return { kind: 'partial', rejected, message: partial.errorMessage || 'no message' };
    return { kind: 'accepted' };
  }
  const detail = `HTTP ${status}${bodyText ? `: ${bodyText.slice(0, 300)}` : ''}`;
  if (status === 413) return { kind: 'too-large', reason: detail };
  if (status === 400 || status === 422) return { kind: 'bad-data', reason: detail };
  const afterMs = parseRetryAfter(retryAfter, now);
  if (status === 429 || status >= 500) return { kind: 'retry', afterMs, reason: detail };
  // 401, 403, 404, 405, 407, ...: the endpoint or our credentials are wrong, not the data.
  return { kind: 'retry', afterMs, reason: detail, misconfigured: true };
}
