import type { Command } from 'commander';
import { ConfigError, type LoadedConfig, loadConfigFile } from '../../config/load.ts';
import { startDaemon } from '../../daemon.ts';
import { StateCorruptError, StateLockedError } from '../../core/state-store.ts';
import { createLogger } from '../../telemetry/log.ts';
import type { Logger } from '../../core/log.ts';
import { redactText } from '../../secrets/redact.ts';
import { parseAddr } from '../../telemetry/http-server.ts';
import { startDaemonTelemetry } from '../../telemetry/serve.ts';

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
      if (opts.httpAddr !== undefined && !validAddr(opts.httpAddr)) return;
      const log = createLogger(loaded.config.log.level);
      exitOnUnexpectedError(log);
      await runUntilSignal(loaded, log, opts.httpAddr);
    });
}

const FINAL_METRICS_PUSH_MS = 2000;

/**
 * A bug that escapes every handler (an unhandled rejection, an exception in a callback) ends the
 * process, as Node would, but says so in the structured log first, redacted, so it reaches the same
 * place as every other line. Nothing is lost: cursors only ever moved after delivery, and the
 * supervisor (systemd, Kubernetes) restarts the daemon from its last checkpoint.
 */
function exitOnUnexpectedError(log: Logger): void {
  const die = (kind: string) => (err: unknown) => {
    log.fatal({ err }, `${kind}: exiting; a restart resumes from the last checkpoint`);
    process.exit(70);
  };
  process.on('uncaughtException', die('uncaught exception'));
  process.on('unhandledRejection', die('unhandled promise rejection'));
}

function validAddr(addr: string): boolean {
  try {
    parseAddr(addr);
    return true;
  } catch (err) {
    process.stderr.write(`auditrelay: --http-addr: ${(err as Error).message}\n`);
    process.exitCode = 1;
    return false;
  }
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
export async function runUntilSignal(loaded: LoadedConfig, log: Logger, httpAddr?: string): Promise<void> {
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
  const telemetry = await startDaemonTelemetry(loaded.config.telemetry, daemon, log, httpAddr);
  const stopped = new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal, deadline: loaded.config.shutdownTimeout }, 'stopping: no new fetches; finishing in-flight deliveries');
      const deadline = Date.now() + loaded.config.shutdownTimeout;
      void daemon.stop(loaded.config.shutdownTimeout).then(async (clean) => {
        // The last metrics push gets what is left of the deadline, but never holds the exit long:
        // an unreachable metrics endpoint must not delay a restart.
        await telemetry.close(Math.min(FINAL_METRICS_PUSH_MS, Math.max(0, deadline - Date.now())));
        log.info({ clean }, clean ? 'stopped cleanly' : 'stopped at the deadline; undelivered work resumes from the last checkpoint');
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        resolve();
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  // Before it is told to stop, an empty event loop means every stream waits on something nothing
  // can settle any more: a bug (an unref'd hold timer was one). Say so and exit like the other fatal
  // errors, so the supervisor restarts from the last checkpoint, rather than Node ending the process
  // silently with "unsettled top-level await" (13) or the daemon idling forever.
  const onIdle = () => {
    log.fatal({}, 'nothing left that can wake the daemon (a bug): exiting; a restart resumes from the last checkpoint');
    process.exit(70);
  };
  process.once('beforeExit', onIdle);
  try {
    await stopped;
  } finally {
    process.off('beforeExit', onIdle);
  }
}
