import type { Command } from 'commander';
import { ConfigError, type LoadedConfig, loadConfigFile } from '../../config/load.ts';
import { startDaemon } from '../../daemon.ts';
import { StateCorruptError, StateLockedError } from '../../state/store.ts';
import { createLogger, type Logger } from '../../telemetry/log.ts';
import { redactText } from '../../telemetry/redact.ts';

/** `auditrelay run --config FILE`: the daemon. Bad config stops before anything starts. */
export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the daemon: pull audit logs and export them over OTLP until stopped')
    .requiredOption('-c, --config <file>', 'config file (YAML)')
    .option('--http-addr <host:port>', 'serve /healthz, /readyz and /metrics here (default from config, loopback)')
    .action(async (opts: { config: string; httpAddr?: string }) => {
      const loaded = loadOrExit(opts.config);
      if (!loaded) return;
      const log = createLogger(loaded.config.log.level);
      await runUntilSignal(loaded, log);
    });
}

export function loadOrExit(file: string): LoadedConfig | undefined {
  try {
    return loadConfigFile(file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\nauditrelay: not started: fix the config (auditrelay validate --config ${file})\n`);
    process.exitCode = 1;
    return undefined;
  }
}

/** Starts the daemon and stops it cleanly on SIGTERM/SIGINT within the configured deadline. */
export async function runUntilSignal(loaded: LoadedConfig, log: Logger): Promise<void> {
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  try {
    daemon = await startDaemon(loaded.config, log);
  } catch (err) {
    if (err instanceof StateCorruptError || err instanceof StateLockedError) {
      log.fatal({ err: err.message }, 'cannot open the state store');
      process.stderr.write(`auditrelay: ${redactText(err.message)}\n`);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
  const stopped = new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal, deadline: loaded.config.shutdownTimeout }, 'stopping: no new fetches; finishing in-flight deliveries');
      void daemon.stop(loaded.config.shutdownTimeout).then((clean) => {
        log.info({ clean }, clean ? 'stopped cleanly' : 'stopped at the deadline; undelivered work resumes from the last checkpoint');
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        resolve();
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  await stopped;
}
