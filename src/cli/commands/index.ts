import type { Command } from 'commander';
import { registerRun } from './run.ts';
import { registerValidate } from './validate.ts';

/** Every CLI command: one file each, one line here. */
export const COMMANDS: ((program: Command) => void)[] = [registerValidate, registerRun];
