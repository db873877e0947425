import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { parseDuration } from '../../core/time.ts';
import { KNOWN_STAGES, startEmulators } from '../../emulator/index.ts';

/**
 * `auditrelay emulate`: runs the API emulators until SIGINT/SIGTERM. Once they listen it prints
 * exactly one JSON line on stdout (`{"o365":URL,"ca":PATH,"config":PATH,...}`) for scripts and
 * tests to read; everything else goes to stderr.
 */
export function registerEmulate(program: Command): void {
  program
    .command('emulate')
    .description('run local Office 365 (and Google) API emulators; prints one JSON line with their URLs, CA and a daemon config')
    .option('--seed <n>', 'seed of all generated data', integer, 1)
    .option('--faults', 'inject throttling, 401s, 5xx and slow answers at a realistic rate')
    .option('--stage <name>', `stage a set-up problem for auditrelay doctor (${KNOWN_STAGES.join(', ')})`)
    .option('--dir <dir>', 'folder for ca.pem, the config and credentials (default: a new temp folder)')
    .option('--backlog <duration>', 'content already available at start, e.g. 2h (at most 7d)', duration)
    .option('--backlog-records <n>', 'approximate number of records in the backlog', integer)
    .option('--subscribed', 'start with every Office 365 subscription enabled')
    .action(async (opts: { seed: number; faults?: boolean; stage?: string; dir?: string; backlog?: number; backlogRecords?: number; subscribed?: boolean }) => {
      if (opts.stage !== undefined && !KNOWN_STAGES.includes(opts.stage)) {
        process.stderr.write(`auditrelay emulate: unknown stage "${opts.stage}" (known: ${KNOWN_STAGES.join(', ')})\n`);
        process.exitCode = 2;
        return;
      }
      const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'auditrelay-emulate-'));
      const emulators = await startEmulators({
        dir,
        seed: opts.seed,
        faults: opts.faults ?? false,
        ...(opts.stage !== undefined ? { stage: opts.stage } : {}),
        o365: {
          ...(opts.backlog !== undefined ? { backlog: opts.backlog } : {}),
          ...(opts.backlogRecords !== undefined ? { backlogRecords: opts.backlogRecords } : {}),
          ...(opts.subscribed ? { subscribed: true } : {}),
        },
      });
      const ready = { o365: emulators.o365, ...(emulators.google ? { google: emulators.google } : {}), ca: emulators.ca, config: emulators.config, dir };
      process.stdout.write(`${JSON.stringify(ready)}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await emulators.close();
    });
}

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('expected an integer');
  return n;
}

function duration(value: string): number {
  try {
    return parseDuration(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}
