import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalBudget } from '../../src/core/budget-local.ts';

const BUDGET = join(import.meta.dirname, '..', '..', 'src', 'core', 'budget-local.ts');

describe('LocalBudget', () => {
  it('holds requests until the hold ends, then runs them in order', async () => {
    const budget = new LocalBudget('t', 100);
    const ran: string[] = [];
    budget.holdFor(150);
    expect(budget.heldForMs()).toBeGreaterThan(0);
    const a = budget.schedule(async () => ran.push('a'));
    const b = budget.schedule(async () => ran.push('b'));
    await new Promise((r) => setTimeout(r, 50));
    expect(ran).toEqual([]);
    await Promise.all([a, b]);
    expect(ran).toEqual(['a', 'b']);
    expect(budget.usedLastMinute()).toBe(2);
  });

  // Regression: the hold timer was unref'd, so a process whose only pending work was a held
  // budget exited with "unsettled top-level await" (code 13) instead of running it (seen in CI
  // when the telemetry port was taken and every stream was throttled at once).
  it('keeps the process alive while requests wait out a hold', async () => {
    const script = `
      const { LocalBudget } = await import(${JSON.stringify(BUDGET)});
      const budget = new LocalBudget('t', 100);
      budget.holdFor(300);
      await budget.schedule(async () => process.stdout.write('ran'));
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect({ code, out, err: err.includes('unsettled') ? err : '' }).toEqual({ code: 0, out: 'ran', err: '' });
  });
});
