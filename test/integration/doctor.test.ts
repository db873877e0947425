import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/doctor/report.ts';
import { type RunningEmulators, startEmulators } from '../../src/emulators.ts';
import { FileStateStore } from '../../src/state/file-store.ts';
import { type OtlpSink, startOtlpSink } from '../support/otlp-sink.ts';

/**
 * Each emulator stage is a set-up problem; `auditrelay doctor` (the CLI, as an operator runs it)
 * must name it: the failing check and its fix hint.
 */
const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

let emulators: RunningEmulators | undefined;
let sink: OtlpSink | undefined;
afterEach(async () => {
  await emulators?.close();
  await sink?.close();
  emulators = undefined;
  sink = undefined;
});

async function start(stage?: string): Promise<{ config: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'auditrelay-doctor-'));
  // Subscriptions enabled, so each stage shows only its own problem (the stages that are about subscriptions override it).
  emulators = await startEmulators({ dir, seed: 11, faults: false, ...(stage ? { stage } : {}), o365: { subscribed: true, backlog: '1h', blobInterval: 0 } });
  sink = await startOtlpSink();
  return { config: emulators.config, dir };
}

interface DoctorRun {
  code: number | null;
  findings: Finding[];
  stdout: string;
  stderr: string;
}

function doctor(config: string, ...args: string[]): Promise<DoctorRun> {
  const child = spawn(process.execPath, [CLI, 'doctor', '--config', config, ...args], {
    env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: sink!.endpoint },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) =>
    child.on('exit', (code) => resolve({ code, stdout, stderr, findings: args.includes('--json') ? (JSON.parse(stdout) as { findings: Finding[] }).findings : [] })),
  );
}

const failing = (run: DoctorRun) => run.findings.filter((f) => f.result === 'fail');
const only = (run: DoctorRun, check: string) => run.findings.filter((f) => f.check === check);

describe('auditrelay doctor against the emulator stages', () => {
  it('a healthy set-up: every check ok, exit 0, and the export endpoint reached', async () => {
    const { config } = await start();
    const run = await doctor(config, '--json');
    expect(failing(run)).toEqual([]);
    expect(run.code).toBe(0);
    expect(only(run, 'export.reachable')[0]!.result).toBe('ok');
    expect(only(run, 'o365.content').every((f) => f.result === 'ok')).toBe(true);
  });

  it('wrong-secret: the token check fails with the secret fix, and the secret is never printed', async () => {
    const { config } = await start('wrong-secret');
    const run = await doctor(config);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/o365\.token\s+o365:emulated-o365\s+FAIL/);
    expect(run.stdout).toContain('fix: the client secret is wrong or expired');
    const secret = emulators!.sources.o365.clientSecret;
    expect(run.stdout + run.stderr).not.toContain(secret.slice(0, -4));
  });

  it('no-subscription: each content type fails and points at --fix; --fix starts them and records the start for the daemon', async () => {
    const { config, dir } = await start('no-subscription');
    const before = await doctor(config, '--json');
    expect(before.code).toBe(1);
    const subs = only(before, 'o365.subscription');
    expect(subs).toHaveLength(5);
    for (const f of subs) {
      expect(f.result).toBe('fail');
      expect(f.detail).toContain('no subscription');
      expect(f.fix).toContain('--fix');
    }
    const fixed = await doctor(config, '--json', '--fix');
    for (const f of only(fixed, 'o365.subscription')) expect(f).toMatchObject({ result: 'ok', detail: expect.stringContaining('started by --fix') });
    // The start is recorded where the daemon looks, so neither starts it again within 15 minutes.
    const store = await FileStateStore.open(join(dir, 'state'));
    const keys = await store.keys('o365/');
    expect(keys).toHaveLength(5);
    for (const key of keys) expect((await store.get(key)) as { lastStartAttempt?: number }).toHaveProperty('lastStartAttempt');
    await store.close();
    const after = await doctor(config, '--json');
    expect(only(after, 'o365.subscription').every((f) => f.result === 'ok')).toBe(true);
    expect(after.code).toBe(0);
  });

  it('disabled-subscription: each content type fails as disabled, not being collected', async () => {
    const { config } = await start('disabled-subscription');
    const run = await doctor(config, '--json');
    expect(run.code).toBe(1);
    for (const f of only(run, 'o365.subscription')) {
      expect(f.result).toBe('fail');
      expect(f.detail).toMatch(/disabled.*NOT being collected/);
      expect(f.fix).toContain('disabled');
    }
  });

  it('audit-off: unified audit logging fails (AF20011) with the Purview fix', async () => {
    const { config } = await start('audit-off');
    const run = await doctor(config, '--json');
    expect(run.code).toBe(1);
    expect(failing(run).map((f) => f.check)).toEqual(['o365.audit-logging']);
    expect(failing(run)[0]!.detail).toContain('AF20011');
    expect(failing(run)[0]!.fix).toContain('Purview');
  });

  it('clock-skew: the clock fails for Office 365 (Date header) and Google (invalid_grant), with the NTP fix', async () => {
    const { config } = await start('clock-skew');
    const run = await doctor(config, '--json');
    expect(run.code).toBe(1);
    const o365 = only(run, 'o365.clock')[0]!;
    expect(o365).toMatchObject({ result: 'fail' });
    expect(o365.detail).toMatch(/2\.0h ahead of Microsoft's/);
    expect(o365.fix).toContain('NTP');
    const google = only(run, 'google.clock')[0]!;
    expect(google).toMatchObject({ result: 'fail' });
    expect(google.fix).toContain('NTP');
  });

  it('no-delegation: Google delegation fails with the client id and scope to grant', async () => {
    const { config } = await start('no-delegation');
    const run = await doctor(config, '--json');
    expect(run.code).toBe(1);
    expect(failing(run).map((f) => f.check)).toEqual(['google.delegation']);
    expect(failing(run)[0]!.detail).toContain('unauthorized_client');
    expect(failing(run)[0]!.fix).toContain('domain-wide delegation');
  });

  it('no-reports-privilege: the subject lacks the Reports privilege', async () => {
    const { config } = await start('no-reports-privilege');
    const run = await doctor(config, '--json');
    expect(run.code).toBe(1);
    expect(failing(run).map((f) => f.check)).toEqual(['google.reports-privilege']);
    expect(failing(run)[0]!.fix).toContain('Reports');
  });

  it('an unreachable export endpoint fails; an invalid config cannot run (exit 2)', async () => {
    const { config, dir } = await start();
    await sink!.close();
    const run = await doctor(config, '--json');
    expect(run.code).toBe(1);
    expect(only(run, 'export.reachable')[0]).toMatchObject({ result: 'fail' });
    const bad = await doctor(join(dir, 'missing.yaml'));
    expect(bad.code).toBe(2);
    sink = undefined;
  });
});
