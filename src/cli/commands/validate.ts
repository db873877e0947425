import type { Command } from 'commander';
import { ConfigError, loadConfigFile } from '../../config/load.ts';

/** `auditrelay validate --config FILE`: exit 0 when the file is valid, else 1 with every problem by key path. */
export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check a config file: every problem named by its key path, exit 0 or 1')
    .requiredOption('-c, --config <file>', 'config file (YAML)')
    .option('--json', 'print the result as JSON')
    .action((opts: { config: string; json?: boolean }) => {
      try {
        const { config } = loadConfigFile(opts.config);
        const streams = Object.entries(config.sources).map(([kind, list]) => `${(list as unknown[]).length} ${kind}`);
        if (opts.json) process.stdout.write(JSON.stringify({ valid: true, file: opts.config, problems: [] }) + '\n');
        else process.stdout.write(`${opts.config}: valid (${streams.join(', ')})\n`);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        if (opts.json) process.stdout.write(JSON.stringify({ valid: false, file: err.file, problems: err.problems }) + '\n');
        else process.stderr.write(err.message + '\n');
        process.exitCode = 1;
      }
    });
}
