import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ThrottleBackoff } from '../../src/core/budget.ts';
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

describe('ThrottleBackoff (a budget\'s throttle state)', () => {
  it('grows the hold with consecutive throttles, never below a Retry-After, and starts over after a reset', () => {
    const throttle = new ThrottleBackoff();
    const top = () => 1; // the jitter at its ceiling
    const ceilings = [1, 2, 3, 4, 5, 6, 7, 8, 9].map(() => throttle.next(undefined, top).holdMs);
    expect(ceilings).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 120_000, 120_000]);
    throttle.reset();
    expect(throttle.next(undefined, top)).toEqual({ holdMs: 1000, consecutive: 1 });
    expect(throttle.next(7000, top).holdMs).toBe(7000);
    expect(throttle.next(1000, top).holdMs).toBe(4000);
  });
});
