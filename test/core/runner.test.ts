import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Budget } from '../../src/core/budget.ts';
import { LocalBudget } from '../../src/core/budget-local.ts';
import { Runner } from '../../src/core/runner.ts';
import type { Source, Stream } from '../../src/core/source.ts';
import { DeadLetterFile } from '../../src/export/dead-letter.ts';
import type { Sink } from '../../src/export/sink.ts';
import { FileStateStore } from '../../src/state/file-store.ts';
import { silentLogger } from '../../src/telemetry/log.ts';

const idle = (id: string, budgetKey: string): Stream => ({
  id,
  budgetKey,
  requestsPerMinute: 100,
  resource: {},
  run: (ctx) => new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true })),
});

describe('Runner.budgets', () => {
  it('lists the budgets its streams run under, from the registry in use (e.g. the replicas\' shared one)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runner-budgets-'));
    const store = await FileStateStore.open(dir);
    const shared = new Map<string, Budget>();
    const budgets = {
      get: (key: string, rpm: number) => {
        if (!shared.has(key)) shared.set(key, new LocalBudget(key, rpm));
        return shared.get(key) as Budget;
      },
      all: () => [...shared.values()],
    };
    const source: Source = { kind: 'test', streams: () => [idle('test/a/1', 'test/a'), idle('test/a/2', 'test/a'), idle('test/b/1', 'test/b')] };
    const sink: Sink = { send: async (_id, _resource, records) => ({ accepted: records.length, rejected: 0 }), close: async () => undefined };
    const runner = new Runner({ sources: [source], store, sink, deadLetter: new DeadLetterFile(join(dir, 'dl.ndjson')), log: silentLogger(), fetchSlots: 1, batchRecords: 10, budgets });
    runner.start();
    await expect.poll(() => runner.budgets().all().map((b) => b.key).sort()).toEqual(['test/a', 'test/b']);
    for (const budget of runner.budgets().all()) expect(shared.get(budget.key)).toBe(budget);
    await runner.stop(1000);
    await store.close();
  });
});
