import { type Command, InvalidArgumentError } from 'commander';
import { runBackfill } from '../../backfill/index.ts';
import { renderProgress } from '../../backfill/plan.ts';
import { formatDuration, parseDuration } from '../../core/time.ts';
import { SOURCE_LIST } from '../../sources/index.ts';
import { StateCorruptError, StateLockedError } from '../../core/state-store.ts';
import { createLogger } from '../../telemetry/log.ts';
import { redactText } from '../../secrets/redact.ts';
import { loadOrExit } from './run.ts';

/** Exit codes of `auditrelay backfill`. */
export const BACKFILL_EXIT = { caughtUp: 0, incomplete: 1, couldNotStart: 2, interrupted: 130 } as const;
const LINE_EVERY_MS = 5_000;
const BAR_WIDTH = 30;

/**
 * `auditrelay backfill --config FILE --since DURATION`: drains history (as far back as each API
 * keeps it) through the daemon's own streams, state, budgets and export, and exits once
 * every stream is caught up with the moment it started. Interrupted, it keeps what was committed;
 * run it again (or `run`) to continue. Progress on stderr: a bar on a terminal, lines otherwise.
 * Exit 0 caught up; 1 caught up except streams stopped on a config problem or blobs set aside;
 * 2 could not start; 130 interrupted.
 */
export function registerBackfill(program: Command): void {
  program
    .command('backfill')
    .description(`drain audit history (${SOURCE_LIST.map((s) => `${s.title} up to ${Math.round(s.retentionMs / 86_400_000)}d`).join(', ')}) and exit when caught up; resumable`)
    .requiredOption('-c, --config <file>', 'config file (YAML)')
    .requiredOption('--since <duration>', 'how far back streams without state start, e.g. 7d, 30d', duration)
    .action(async (opts: { config: string; since: number }) => {
      const loaded = loadOrExit(opts.config);
      if (!loaded) {
        process.exitCode = BACKFILL_EXIT.couldNotStart;
        return;
      }
      const tty = process.stderr.isTTY === true;
      const level = loaded.config.log.level === 'info' ? 'warn' : loaded.config.log.level;
      const log = createLogger(level);
      const abort = new AbortController();
      const onSignal = () => abort.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      let lastLine = 0;
      try {
        const result = await runBackfill(loaded, {
          sinceMs: opts.since,
          log,
          signal: abort.signal,
          onProgress: (s, final) => {
            if (tty) {
              process.stderr.write(`\r\x1b[2K${renderProgress(s, BAR_WIDTH)}${final ? '\n' : ''}`);
            } else if (final || Date.now() - lastLine >= LINE_EVERY_MS) {
              lastLine = Date.now();
              process.stderr.write(`${renderProgress(s, 0)}\n`);
            }
          },
        });
        for (const note of result.notes) process.stderr.write(`backfill: note: ${note}\n`);
        for (const c of result.continued) {
          process.stderr.write(`backfill: ${c.id} already had state: continued from ${new Date(c.from).toISOString()} (--since does not move an existing cursor back)\n`);
        }
        for (const f of result.failed) process.stderr.write(`backfill: ${f.id} stopped: ${redactText(f.error)}${f.hint ? `\n  fix: ${redactText(f.hint)}` : ''}\n`);
        const s = result.snapshot;
        if (result.outcome === 'interrupted') {
          process.stderr.write(`backfill: interrupted; progress is committed: run the same command again (or auditrelay run) to continue\n`);
          process.exitCode = BACKFILL_EXIT.interrupted;
        } else if (result.failed.length > 0 || s.setAside > 0) {
          process.stderr.write(`backfill: caught up to ${new Date(result.startedAt).toISOString()} except the streams and blobs above (${s.records} records exported)\n`);
          process.exitCode = BACKFILL_EXIT.incomplete;
        } else {
          process.stderr.write(`backfill: caught up to ${new Date(result.startedAt).toISOString()} (${s.records} records exported, ${formatDuration(opts.since)} asked)\n`);
          process.exitCode = BACKFILL_EXIT.caughtUp;
        }
      } catch (err) {
        if (err instanceof StateLockedError) {
          process.stderr.write(`auditrelay backfill: ${redactText(err.message)}: a daemon is running on this state; stop it first (backfill runs the same streams)\n`);
        } else if (err instanceof StateCorruptError || (err instanceof Error && err.message.startsWith('--since'))) {
          process.stderr.write(`auditrelay backfill: ${redactText(err.message)}\n`);
        } else {
          throw err;
        }
        process.exitCode = BACKFILL_EXIT.couldNotStart;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}

function duration(value: string): number {
  try {
    return parseDuration(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}
