import type { Command } from 'commander';

type Register = (program: Command) => void;

/**
 * Every CLI command: one file each, one line here. A command's file is loaded only when that command
 * runs (all of them for help): the daemon then carries no emulator, doctor or preview code, which
 * is tens of MB of memory for as long as it runs.
 */
const COMMAND_FILES: Record<string, () => Promise<Register>> = {
  validate: async () => (await import('./validate.ts')).registerValidate,
  run: async () => (await import('./run.ts')).registerRun,
  status: async () => (await import('./status.ts')).registerStatus,
  demo: async () => (await import('./demo.ts')).registerDemo,
  preview: async () => (await import('./preview.ts')).registerPreview,
  emulate: async () => (await import('./emulate.ts')).registerEmulate,
  doctor: async () => (await import('./doctor.ts')).registerDoctor,
  backfill: async () => (await import('./backfill.ts')).registerBackfill,
};

/** The registrations needed for `argv`: the named command's, or every one (help, unknown names). */
export async function commandsFor(argv: readonly string[]): Promise<Register[]> {
  const name = argv.find((a) => !a.startsWith('-'));
  const chosen = name !== undefined && name in COMMAND_FILES ? [name] : Object.keys(COMMAND_FILES);
  return Promise.all(chosen.map((n) => (COMMAND_FILES[n] as () => Promise<Register>)()));
}
