/**
 * What one answer of a source API means, in the words the retry policy (`call.ts`) acts on. Each
 * source's `errors.ts` reads its API's answers (status, error codes, a client library's errors)
 * into one of these and decides nothing else; the policy does the rest, the same way for every
 * source.
 */
export type Verdict<Meaning extends string = never> =
  | OkVerdict
  | ThrottledVerdict
  | TransientVerdict
  | AuthExpiredVerdict
  | ConfigVerdict
  | OtherVerdict<Meaning>;

/** The call did what was asked. */
export interface OkVerdict {
  kind: 'ok';
}

/** Over quota: every request of the budget (all streams sharing it) is held, then retried, without limit. */
export interface ThrottledVerdict {
  kind: 'throttled';
  /** The API's code or reason (`AF429`, `rateLimitExceeded`, `HTTP 429`): for logs and doctor. */
  reason: string;
  retryAfterMs?: number;
}

/** May pass on its own (5xx, 408, a network error, a garbled body): retried a few times, then the caller decides. */
export interface TransientVerdict {
  kind: 'transient';
  reason: string;
  message?: string;
  retryAfterMs?: number;
}

/**
 * The credential was refused (401): it is renewed and the call retried at once. An API that keeps
 * refusing fresh credentials means something else: after the renewals the answer counts as
 * `ifPersistent` (an operator problem, or a failure of this one call).
 */
export interface AuthExpiredVerdict {
  kind: 'auth-expired';
  reason: string;
  ifPersistent: ConfigVerdict | TransientVerdict;
}

/** Only the operator can fix it: the stream stops with the message and the fix. */
export interface ConfigVerdict {
  kind: 'config';
  /** The API's error code, when it has one (`AF20011`). */
  code?: string;
  message: string;
  hint: string;
}

/** A meaningful answer that only the caller can act on (a gone blob, a refused window): `meaning` names it. */
export interface OtherVerdict<Meaning extends string> {
  kind: 'other';
  meaning: Meaning;
  code: string;
  message: string;
}
