/**
 * A field read as text, the same way by every mapping: a non-blank string as it is; a finite number
 * or a boolean as its string form (the APIs write ids as strings, but the same records exported by
 * other tools carry `profileId` or `uniqueQualifier` as numbers, and Exchange writes `ResultStatus`
 * as a boolean); anything else (blank, null, an object) is no text.
 */
export function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value;
  if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') return String(value);
  return undefined;
}
