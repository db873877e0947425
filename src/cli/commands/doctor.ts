import type { Command } from 'commander';
import { ConfigError, loadConfigFile } from '../../config/load.ts';
import { runDoctor } from '../../doctor/index.ts';
import { DOCTOR_EXIT, exitCodeOf, renderTable, toJson } from '../../doctor/report.ts';
import { redactText } from '../../secrets/redact.ts';

/**
 * `auditrelay doctor --config FILE [--fix] [--json]`: each source's checks (its vendor's
 * troubleshooting guide, `sources/<kind>/doctor.ts`) against the real APIs, then the export endpoint.
 * Exit 0: all ok or only warnings; 1: a check failed; 2: doctor could not run (config unusable).
 */
export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check credentials, permissions, subscriptions, clock and the export endpoint; exit 0 ok/warn, 1 fail, 2 could not run')
    .requiredOption('-c, --config <file>', 'config file (YAML)')
    .option('--fix', 'repair what a source can repair safely: start missing or disabled subscriptions (within the API\'s limit of one start per 15 minutes)')
    .option('--json', 'print the findings as JSON')
    .action(async (opts: { config: string; fix?: boolean; json?: boolean }) => {
      let loaded: ReturnType<typeof loadConfigFile>;
      try {
        loaded = loadConfigFile(opts.config);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        if (opts.json) process.stdout.write(`${JSON.stringify({ result: 'could-not-run', exitCode: DOCTOR_EXIT.couldNotRun, problems: err.problems })}\n`);
        else process.stderr.write(`${err.message}\nauditrelay doctor: could not run: fix the config first\n`);
        process.exitCode = DOCTOR_EXIT.couldNotRun;
        return;
      }
      try {
        const findings = await runDoctor(loaded, { fix: opts.fix ?? false });
        process.stdout.write(opts.json ? toJson(findings) : renderTable(findings));
        process.exitCode = exitCodeOf(findings);
      } catch (err) {
        const message = redactText(err instanceof Error ? err.message : String(err));
        if (opts.json) process.stdout.write(`${JSON.stringify({ result: 'could-not-run', exitCode: DOCTOR_EXIT.couldNotRun, error: message })}\n`);
        else process.stderr.write(`auditrelay doctor: could not run: ${message}\n`);
        process.exitCode = DOCTOR_EXIT.couldNotRun;
      }
    });
}
