import type { AuditRecord } from '../core/record.ts';

/** `2026-11-22T05:00:00.000Z  <stream id>  <event>  user=… ip=…  uid=…` */
export function formatRecordLine(streamId: string, r: AuditRecord): string {
  const a = r.attributes;
  const who = a['user.name'] ?? a['user.email'] ?? a['user.id'];
  const ip = a['client.address'];
  const outcome = a['event.outcome'];
  const parts = [new Date(r.timeUnixMs).toISOString(), streamId, r.eventName];
  if (who !== undefined) parts.push(`user=${String(who)}`);
  if (ip !== undefined) parts.push(`ip=${String(ip)}`);
  if (outcome !== undefined) parts.push(`outcome=${String(outcome)}`);
  parts.push(`uid=${r.uid}`);
  return parts.join('  ');
}
