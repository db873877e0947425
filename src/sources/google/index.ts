import type { SourceEntry } from '../entry.ts';
import { type GoogleCustomerConfig, googleCustomerSchema, RETENTION_MS } from './config.ts';
import type { GoogleEmulator, GoogleEmulatorOptions } from './emulator/index.ts';
import { GOOGLE_STAGES } from './emulator/stages.ts';
import { googlePosition, googleStoredView } from './health.ts';
import { activitiesOfPage } from './mapping/preview.ts';
import { type GoogleStreamState, restoreGoogleState } from './state.ts';

/**
 * The Google Workspace Admin SDK Reports API source, as the rest of the daemon knows it. One stream
 * per customer × application (`stream.ts`); its cursor is windows of event time re-read at growing
 * ages (`windows.ts`, kept in `state.ts`); the API's answers are classified in `errors.ts`; a
 * record's uid is made in `mapping/uid.ts`.
 */
export const google: SourceEntry<GoogleCustomerConfig, GoogleStreamState | undefined, GoogleEmulator, GoogleEmulatorOptions> = {
  kind: 'google',
  title: 'Google Workspace',
  configSchema: googleCustomerSchema,
  resolvePaths: (customer, fromConfigDir) => {
    if (customer.credentials.keyFile) customer.credentials.keyFile = fromConfigDir(customer.credentials.keyFile);
  },
  retentionMs: RETENTION_MS,
  create: async (customers, deps) => (await import('./source.ts')).createGoogleSource(customers, deps),
  state: { restore: restoreGoogleState, view: googleStoredView, position: googlePosition },
  doctor: { check: async (customers, deps) => (await import('./doctor.ts')).checkGoogle(customers, deps) },
  preview: {
    options: [
      { flags: '--customer <id>', description: "Google customer id (default: each activity's id.customerId)" },
      { flags: '--application <name>', description: "Google application (default: each activity's id.applicationName)" },
    ],
    unpage: activitiesOfPage,
    load: async () => (await import('./mapping/preview.ts')).previewGoogle,
  },
  emulator: {
    stages: GOOGLE_STAGES,
    options: [],
    start: async (context, options) => (await import('./emulator/index.ts')).startGoogleEmulator(context, options),
  },
};
