#!/usr/bin/env node
import { Command } from 'commander';
import { SOURCE_LIST } from '../sources/index.ts';
import { VERSION } from '../version.ts';
import { commandsFor } from './commands/index.ts';

/**
 * `auditrelay <command>`. Each command lives in its own file under commands/ and registers itself;
 * commands set process.exitCode rather than calling process.exit, so streams flush.
 */
const program = new Command('auditrelay')
  .description(`${SOURCE_LIST.map((s) => s.title).join(' and ')} audit logs to OpenTelemetry (OTLP), at least once`)
  .version(VERSION)
  .showHelpAfterError();

for (const register of await commandsFor(process.argv.slice(2))) register(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Commands print their own well-formed errors; this is the last resort for anything unexpected.
  const { redactText } = await import('../secrets/redact.ts');
  process.stderr.write(`auditrelay: ${redactText(err instanceof Error ? err.message : String(err))}\n`);
  process.exitCode = process.exitCode || 1;
}
