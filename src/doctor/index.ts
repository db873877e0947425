import type { LoadedConfig } from '../config/load.ts';
import { openState } from '../scale/open.ts';
import { StateLockedError, type StateStore } from '../state/store.ts';
import { silentLogger } from '../telemetry/log.ts';
import { checkExport } from './export.ts';
import { type GoogleProbe, googleFindings, probeGoogle } from './google.ts';
import { o365Findings, probeO365 } from './o365.ts';
import type { Finding } from './report.ts';

export interface DoctorOptions {
  /** Start missing or disabled Office 365 subscriptions (honouring one start per 15 minutes). */
  fix: boolean;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/**
 * Every check of every configured source, then the export endpoint. Tenants and customers are
 * checked one after another, so the output reads in config order and no API sees a burst.
 */
export async function runDoctor(loaded: LoadedConfig, options: DoctorOptions): Promise<Finding[]> {
  const { config } = loaded;
  const findings: Finding[] = [];
  // --fix records its start attempts where the daemon keeps them; a running daemon holds the lock.
  let store: StateStore | string | undefined;
  if (options.fix && config.sources.o365.length > 0) {
    try {
      store = (await openState(config.state, silentLogger(), options.env)).store;
    } catch (err) {
      if (!(err instanceof StateLockedError)) throw err;
      store = `a running daemon holds the state folder ${config.state.path}`;
    }
  }
  try {
    for (const tenant of config.sources.o365) {
      findings.push(...o365Findings(await probeO365(tenant, { fix: options.fix, store, signal: options.signal })));
    }
  } finally {
    if (store !== undefined && typeof store !== 'string') await store.close();
  }
  for (const customer of config.sources.google) {
    const probe: GoogleProbe = await probeGoogle(customer, {
      baseDir: loaded.baseDir,
      projectRequestsPerMinute: projectBudget(config.sources.google, customer.projectId, customer.requestsPerMinute),
      signal: options.signal,
    });
    findings.push(...googleFindings(probe));
  }
  findings.push(await checkExport(config.export, options.env));
  return findings;
}

/** The budgets of every customer naming the same project (a customer without one counts alone). */
function projectBudget(customers: { projectId?: string; requestsPerMinute: number }[], projectId: string | undefined, own: number): number {
  if (!projectId) return own;
  return customers.filter((c) => c.projectId === projectId).reduce((n, c) => n + c.requestsPerMinute, 0);
}
