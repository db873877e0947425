import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { KNOWN_STAGES, startEmulators } from '../../emulators.ts';
import { SOURCE_KINDS, SOURCE_LIST } from '../../sources/index.ts';

/**
 * `auditrelay emulate`: runs the API emulators until SIGINT/SIGTERM. Once they listen it prints
 * exactly one JSON line on stdout (`{"<kind>":URL,...,"ca":PATH,"config":PATH,"dir":PATH}`, one URL
 * per source) for scripts and tests to read; everything else goes to stderr.
 */
export function registerEmulate(program: Command): void {
  const command = program
    .command('emulate')
    .description(`run local API emulators (${SOURCE_LIST.map((s) => s.title).join(', ')}); prints one JSON line with their URLs, CA and a daemon config`)
    .option('--seed <n>', 'seed of all generated data', integer, 1)
    .option('--faults', 'inject throttling, 401s, 5xx and slow answers at a realistic rate')
    .option('--stage <name>', `stage a set-up problem for auditrelay doctor (${KNOWN_STAGES.join(', ')})`)
    .option('--dir <dir>', 'folder for ca.pem, the config and credentials (default: a new temp folder)');
  // Each source's own options go to its emulator.
  const owners = new Map<string, { kind: string; option: string }>();
  for (const source of SOURCE_LIST) {
    for (const option of source.emulator.options) {
      if (option.parse) command.option(option.flags, option.description, cliParser(option.parse));
      else command.option(option.flags, option.description);
      owners.set(attributeOf(option.flags), { kind: source.kind, option: attributeOf(option.flags) });
    }
  }
  command.action(async (opts: { seed: number; faults?: boolean; stage?: string; dir?: string } & Record<string, unknown>) => {
    if (opts.stage !== undefined && !KNOWN_STAGES.includes(opts.stage)) {
      process.stderr.write(`auditrelay emulate: unknown stage "${opts.stage}" (known: ${KNOWN_STAGES.join(', ')})\n`);
      process.exitCode = 2;
      return;
    }
    const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'auditrelay-emulate-'));
    const perSource: Record<string, Record<string, unknown>> = {};
    for (const [attribute, { kind, option }] of owners) {
      if (opts[attribute] === undefined) continue;
      perSource[kind] = { ...perSource[kind], [option]: opts[attribute] };
    }
    const emulators = await startEmulators({
      dir,
      seed: opts.seed,
      faults: opts.faults ?? false,
      ...(opts.stage !== undefined ? { stage: opts.stage } : {}),
      ...perSource,
    });
    const urls = Object.fromEntries(SOURCE_KINDS.map((k) => [k, emulators[k]]));
    const ready = { ...urls, ca: emulators.ca, config: emulators.config, dir };
    process.stdout.write(`${JSON.stringify(ready)}\n`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await emulators.close();
  });
}

/** Commander's attribute name of a flag: `--backlog-records <n>` arrives as `backlogRecords`. */
function attributeOf(flags: string): string {
  const long = /--([a-z0-9-]+)/i.exec(flags)?.[1] ?? flags;
  return long.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function cliParser(parse: (value: string) => unknown): (value: string) => unknown {
  return (value) => {
    try {
      return parse(value);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  };
}

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('expected an integer');
  return n;
}
