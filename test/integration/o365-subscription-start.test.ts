import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileStateStore } from '../../src/state/file-store.ts';
import { daemonConfig, startInProcess, startWorld, waitFor, type World } from '../support/harness.ts';

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe('Office 365 subscriptions/start', () => {
  it('a start that never reached the API (the stream stopped while it waited for the budget) does not make the next run wait 15 minutes', async () => {
    const calls: string[] = [];
    world = await startWorld({
      o365: { backlog: '1h', backlogRecords: 100, blobInterval: 0, lateRate: 0, onApiCall: (path) => calls.push(path) },
      google: { history: 0, eventsPerMinute: 0 },
    });
    const stream = 'Audit.Exchange';
    // One request a minute: subscriptions/list takes it, so subscriptions/start waits in the budget
    // (as it does behind a throttled tenant, or when a replica hands the stream over meanwhile).
    const first = await startInProcess(
      daemonConfig(world, (c) => {
        c.sources.google = [];
        Object.assign(c.sources.o365[0]!, { contentTypes: [stream], requestsPerMinute: 1 });
      }),
    );
    try {
      await waitFor(() => calls.some((p) => p.endsWith('/subscriptions/list')), 30_000, () => `API calls so far: ${calls.join(', ')}`);
      // Long enough for the start to be queued behind the budget, far less than its next token.
      await new Promise((r) => setTimeout(r, 1000));
    } finally {
      await first.stop(10_000);
    }
    expect(calls.filter((p) => p.endsWith('/subscriptions/start'))).toEqual([]);
    const store = await FileStateStore.openReadOnly(join(world.dir, 'state'));
    const key = (await store.keys('o365/')).find((k) => k.endsWith(`/${stream}`));
    const saved = key === undefined ? undefined : ((await store.get(key)) as { lastStartAttempt?: number } | undefined);
    // Nothing says a start was attempted: none reached the API.
    expect(saved?.lastStartAttempt).toBeUndefined();

    // The next run starts the subscription at once (it waited 15 minutes when the attempt was
    // recorded before the call).
    const second = await startInProcess(
      daemonConfig(world, (c) => {
        c.sources.google = [];
        Object.assign(c.sources.o365[0]!, { contentTypes: [stream], pollInterval: 500 });
      }),
    );
    try {
      await waitFor(() => calls.some((p) => p.endsWith('/subscriptions/start')), 30_000, () => 'subscriptions/start never called');
    } finally {
      await second.stop(10_000);
    }
  });
});
