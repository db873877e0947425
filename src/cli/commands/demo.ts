import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadConfigFile } from '../../config/load.ts';
import { startEmulators } from '../../emulators.ts';
import { SOURCE_LIST, type SourceKind } from '../../sources/index.ts';
import { createLogger } from '../../telemetry/log.ts';
import { runUntilSignal } from './run.ts';

const line = (label: string, value: string) => `  ${label.padEnd(27)}${value}`;

/**
 * `auditrelay demo` (and `npm start`): the built-in API emulators and the daemon in one process,
 * no credentials. Prints one readable line per record, or exports to OTEL_EXPORTER_OTLP_ENDPOINT
 * when that is set.
 */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run the daemon against the built-in API emulators (no credentials needed)')
    .option('--seed <n>', 'emulator seed', '1')
    .option('--faults', 'switch the emulators\' faults on (throttling, 5xx, token expiry, slow answers)')
    .option('--dir <dir>', 'working folder for the emulator CA, config and daemon state (default: a new temp folder)')
    .option('--log-level <level>', 'daemon log level (logs go to stderr)', 'warn')
    .action(async (opts: { seed: string; faults?: boolean; dir?: string; logLevel: string }) => {
      const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'auditrelay-demo-'));
      const emulators = await startEmulators({ dir, seed: Number(opts.seed), faults: Boolean(opts.faults) });
      try {
        const loaded = loadConfigFile(emulators.config);
        const otlp = process.env.OTEL_EXPORTER_OTLP_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT;
        if (!otlp) loaded.config.export.mode = 'console';
        process.stderr.write(
          [
            'auditrelay demo: daemon running against the built-in emulators (Ctrl-C to stop)',
            ...SOURCE_LIST.map((source) => line(`${source.title} emulator:`, emulators[source.kind as SourceKind])),
            line('config:', emulators.config),
            line('state:', loaded.config.state.path),
            line('records go to:', otlp ? `OTLP ${otlp}` : 'stdout, one line each (set OTEL_EXPORTER_OTLP_ENDPOINT to send OTLP)'),
            '',
          ].join('\n'),
        );
        await runUntilSignal(loaded, createLogger(opts.logLevel as 'warn'));
      } finally {
        // Also on a failure: open servers would keep the process alive.
        await emulators.close();
      }
    });
}
