/**
 * Keeps secrets out of logs, errors and telemetry. Two layers:
 * - known secret values (every value the config loader substituted, every client secret and key)
 *   are registered here and replaced wherever they appear in text;
 * - patterns catch secrets we never saw (bearer tokens, PEM keys, JWT assertions, form fields).
 */
const known = new Set<string>();
const REDACTED = '[REDACTED]';

/** Registers a secret value; values shorter than 6 characters are ignored (they would shred ordinary text). */
export function registerSecret(value: string | undefined | null): void {
  if (value && value.length >= 6) known.add(value);
}

const PATTERNS: [RegExp, string][] = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, `-----${REDACTED} PRIVATE KEY-----`],
  [/(bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi, `$1${REDACTED}`],
  [/((?:client_secret|client_assertion|assertion|access_token|refresh_token|id_token|private_key)["']?\s*[=:]\s*["']?)[^"'&\s,}]+/gi, `$1${REDACTED}`],
  // A bare JWT (three base64url parts, the first starting with eyJ = '{"').
  [/eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, REDACTED],
];

export function redactText(text: string): string {
  let out = text;
  for (const secret of known) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  for (const [re, replacement] of PATTERNS) out = out.replace(re, replacement);
  return out;
}

const SECRET_KEYS = /^(client_?secret|secret|password|private_?key|privateKey|authorization|access_?token|refresh_?token|assertion|client_?assertion|key_?file_?contents|credentials)$/i;

/** Deep copy of `value` with secret-named keys masked and every string scrubbed. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (value instanceof Error) {
    const out: Record<string, unknown> = { type: value.name, message: redactText(value.message) };
    if (value.stack) out['stack'] = redactText(value.stack);
    for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEYS.test(k) ? REDACTED : redactValue(v, depth + 1);
    // `cause` (undici, pg, our own wrappers) and AggregateError's `errors` are not enumerable: keep them, scrubbed.
    if (value.cause !== undefined) out['cause'] = redactValue(value.cause, depth + 1);
    if (value instanceof AggregateError) out['errors'] = redactValue(value.errors, depth + 1);
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEYS.test(k) ? REDACTED : redactValue(v, depth + 1);
  return out;
}
