// One-shot hash(): the same digest as createHash().update().digest(), a third of the cost per call.
import { hash } from 'node:crypto';

/**
 * The record uid: stable across re-polls (only fields of the activity go in) and unique per event.
 * `id.uniqueQualifier` alone is only unique among events of the same time, so the time, the
 * application and the customer go in too; one activity holds several events, so the event's
 * position and name go in as well (the name guards against two activities that differ only in
 * their events). Hashed so the id is short and of fixed length (it also becomes Elasticsearch's `_id`).
 */
export function googleEventUid(id: { customerId: string; applicationName: string; time: string; uniqueQualifier: string }, index: number, name: string): string {
  const key = [id.customerId, id.applicationName, id.time, id.uniqueQualifier, String(index), name].join('\n');
  return hash('sha256', key, 'hex').slice(0, 32);
}
