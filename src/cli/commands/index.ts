import type { Command } from 'commander';
import { registerBackfill } from './backfill.ts';
import { registerDemo } from './demo.ts';
import { registerDoctor } from './doctor.ts';
import { registerEmulate } from './emulate.ts';
import { registerRun } from './run.ts';
import { registerStatus } from './status.ts';
import { registerPreview } from './preview.ts';
import { registerValidate } from './validate.ts';

/** Every CLI command: one file each, one line here. */
export const COMMANDS: ((program: Command) => void)[] = [registerValidate, registerRun, registerStatus, registerDemo, registerPreview, registerEmulate, registerDoctor, registerBackfill];
