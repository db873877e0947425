import { parseDuration } from '../../core/time.ts';
import type { SourceEntry } from '../entry.ts';
import { type O365TenantConfig, o365TenantSchema } from './config.ts';
import type { O365Emulator, O365EmulatorOptions } from './emulator/index.ts';
import { O365_STAGES } from './emulator/stages.ts';
import { o365Position, o365StoredView } from './health.ts';
import { type O365StreamState, restoreState } from './state.ts';
import { RETENTION_MS } from './windows.ts';

/**
 * The Office 365 Management Activity API source, as the rest of the daemon knows it. One stream per
 * tenant × content type (`stream.ts`); its cursor is the listing windows (`windows.ts`) and a ledger
 * of content blobs (`state.ts`); the API's answers are classified in `errors.ts`; a record's uid is
 * made in `mapping/uid.ts`.
 */
export const o365: SourceEntry<O365TenantConfig, O365StreamState, O365Emulator, O365EmulatorOptions> = {
  kind: 'o365',
  title: 'Office 365',
  configSchema: o365TenantSchema,
  retentionMs: RETENTION_MS,
  create: async (tenants, deps) => (await import('./source.ts')).createO365Source(tenants, deps.siem),
  state: { restore: restoreState, view: o365StoredView, position: o365Position },
  doctor: { check: async (tenants, deps) => (await import('./doctor.ts')).checkO365(tenants, deps) },
  preview: {
    options: [
      { flags: '--tenant <id>', description: "Office 365 tenant id (default: each record's OrganizationId)" },
      { flags: '--content-type <type>', description: "Office 365 content type (default: from each record's Workload)" },
    ],
    load: async () => (await import('./mapping/preview.ts')).previewO365,
  },
  emulator: {
    stages: O365_STAGES,
    options: [
      { flags: '--backlog <duration>', description: 'Office 365 content already available at start, e.g. 2h (at most 7d)', parse: parseDuration },
      { flags: '--backlog-records <n>', description: 'approximate number of records in the Office 365 backlog', parse: integer },
      { flags: '--subscribed', description: 'start with every Office 365 subscription enabled' },
    ],
    start: async (context, options) => (await import('./emulator/index.ts')).startO365Emulator(context, options),
  },
};

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new Error('expected an integer');
  return n;
}
