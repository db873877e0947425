import type { Command } from 'commander';
import { readLeases } from '../../scale/leases.ts';
import { resolveStateConfig } from '../../scale/state-backend.ts';
import { FileStateStore } from '../../state/file-store.ts';
import { PostgresStateStore } from '../../state/postgres-store.ts';
import type { StateStore } from '../../core/state-store.ts';
import { silentLogger } from '../../telemetry/log.ts';
import { redactText } from '../../secrets/redact.ts';
import { formatStatus, readStatus } from '../../telemetry/status.ts';
import { storedViews } from '../../sources/index.ts';
import { loadOrExit } from './run.ts';

/**
 * `auditrelay status --config FILE [--json]`: per stream and hour, what was listed, fetched and
 * exported, with gaps, losses, set-aside and at-risk data flagged. Reads the state store without
 * taking its lock, so it works while the daemon runs.
 */
export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show per stream and hour what was listed, fetched and exported; flag gaps, losses, set-aside and at-risk data')
    .requiredOption('-c, --config <file>', 'config file (YAML)')
    .option('--json', 'print the report as JSON')
    .action(async (opts: { config: string; json?: boolean }) => {
      const loaded = loadOrExit(opts.config);
      if (!loaded) return;
      const { config } = loaded;
      let store: StateStore;
      let shared: PostgresStateStore | undefined;
      try {
        const state = resolveStateConfig(config.state);
        if (state.kind === 'file') store = await FileStateStore.openReadOnly(state.path);
        else {
          shared = await PostgresStateStore.open({ ...(state.url !== undefined ? { url: state.url } : {}), schema: state.schema, log: silentLogger() });
          store = shared;
        }
      } catch (err) {
        process.stderr.write(`auditrelay status: ${redactText((err as Error).message)}\n`);
        process.exitCode = 2;
        return;
      }
      try {
        // Replicas: which one holds each stream's lease and what its loop is doing there.
        const leases = shared ? await readLeases(shared) : undefined;
        const report = await readStatus(store, Date.now(), config.telemetry.atRiskHorizon, storedViews, leases);
        process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report));
      } finally {
        await store.close();
      }
    });
}
