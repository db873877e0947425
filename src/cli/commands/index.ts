import type { Command } from 'commander';
import { registerValidate } from './validate.ts';

/** Every CLI command: one file each, one line here. */
export const COMMANDS: ((program: Command) => void)[] = [registerValidate];
