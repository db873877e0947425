/**
 * The uid (`log.record.uid`) of an Office 365 record: its own `Id`, the GUID the service gives each
 * audit record. The same record repeated in another blob carries the same Id, so the uid is stable
 * across repeats, re-fetches and restarts. Undefined when the record has no string Id (it cannot be
 * mapped).
 */
export function o365RecordUid(record: Record<string, unknown>): string | undefined {
  const id = record['Id'];
  return typeof id === 'string' && id.trim() !== '' ? id : undefined;
}
