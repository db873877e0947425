import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Runner } from '../../src/core/runner.ts';
import { type Stream, StreamConfigError, type StreamContext } from '../../src/core/source.ts';
import { DeadLetterFile } from '../../src/export/dead-letter.ts';
import type { Coordinator, LeaseEvents } from '../../src/core/coordinator.ts';
import { type Fence, FencedError, type StateStore } from '../../src/core/state-store.ts';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { silentLogger } from '../../src/telemetry/log.ts';

/** What the runner promises about leases: a stream it holds is a stream it runs, and says so. */

class MemoryStore implements StateStore {
  readonly kind = 'memory';
  readonly location = 'memory';
  readonly docs = new Map<string, { value: unknown; fence?: Fence }>();
  /** Puts refused with FencedError, as postgres refuses a commit under a lease that moved. */
  refuse: (key: string, fence: Fence | undefined) => boolean = () => false;
  async get(key: string): Promise<unknown> {
    return this.docs.get(key)?.value;
  }
  async put(key: string, value: unknown, fence?: Fence): Promise<void> {
    if (this.refuse(key, fence)) throw new FencedError(`${key}: fence ${fence?.epoch} refused`);
    this.docs.set(key, { value, ...(fence ? { fence } : {}) });
  }
  async keys(prefix: string): Promise<string[]> {
    return [...this.docs.keys()].filter((k) => k.startsWith(prefix));
  }
  async close(): Promise<void> {}
}

/** A coordinator driven by the test: it leases streams when told and records what the runner reports. */
class TestCoordinator implements Coordinator {
  readonly replicaId = 'test-replica';
  events: LeaseEvents | undefined;
  readonly held$ = new Map<string, number>();
  readonly lostCalls: { id: string; epoch: number | undefined }[] = [];
  start(_ids: readonly string[], events: LeaseEvents): void {
    this.events = events;
  }
  acquire(id: string, epoch: number): void {
    this.held$.set(id, epoch);
    this.events?.acquired(id, { owner: this.replicaId, epoch });
  }
  lost(id: string, fence: Fence | undefined): void {
    this.lostCalls.push({ id, epoch: fence?.epoch });
    if (this.held$.get(id) === fence?.epoch) this.held$.delete(id);
  }
  held(): string[] {
    return [...this.held$.keys()];
  }
  async stop(): Promise<void> {
    this.held$.clear();
  }
  async claim(): Promise<undefined> {
    return undefined;
  }
}

function fakeStream(id: string, run: (ctx: StreamContext) => Promise<void>): Stream {
  return { id, budgetKey: `test/${id}`, requestsPerMinute: 600, resource: {}, run };
}

function runner(stream: Stream, store: StateStore, coordinator: Coordinator, log = silentLogger()): Runner {
  return new Runner({
    sources: [{ kind: 'test', streams: () => [stream] }],
    store,
    sink: { send: async (_id, _r, records) => ({ accepted: records.length, rejected: 0 }) },
    deadLetter: new DeadLetterFile(join(mkdtempSync(join(tmpdir(), 'auditrelay-runner-')), 'dead-letter.ndjson')),
    log,
    fetchSlots: 2,
    batchRecords: 100,
    coordinator,
  });
}

async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('runner and leases', () => {
  it('keeps running a stream stopped by a configuration problem: tried again on a backoff, shown as config-error, lease and loop kept', async () => {
    let calls = 0;
    let fixed = false;
    const stream = fakeStream('test/a', async (ctx) => {
      calls++;
      if (!fixed) throw new StreamConfigError('the key was refused', 'rotate the key');
      await ctx.sleep(60_000);
    });
    const coordinator = new TestCoordinator();
    const r = runner(stream, new MemoryStore(), coordinator);
    r.start();
    coordinator.acquire('test/a', 1);
    try {
      await until('config-error', () => r.status()[0]?.phase === 'config-error');
      const status = r.status()[0]!;
      expect(status).toMatchObject({ leased: true, running: true, lastError: 'the key was refused', hint: 'rotate the key' });
      // What the coordinator reports at renewal: the loop is there, in its config-error phase.
      expect(coordinator.events?.phase('test/a')).toBe('config-error');
      fixed = true;
      // The first retry comes within the first backoff step (at most 10 s).
      await until('tried again', () => calls >= 2 && r.status()[0]?.phase === 'running', 30_000);
      expect(r.status()[0]).toMatchObject({ leased: true, running: true });
    } finally {
      await r.stop(5000);
    }
  });

  it('a loop of an older lease refused by the store does not make the coordinator forget the newer lease', async () => {
    const store = new MemoryStore();
    let commits = 0;
    const stream = fakeStream('test/b', async (ctx) => {
      // Commits until stopped; the last commit of a halted loop is where a refusal lands.
      while (!ctx.signal.aborted) {
        await ctx.state.commit({ n: ++commits });
        await ctx.sleep(20);
      }
      await ctx.state.commit({ n: ++commits });
    });
    const coordinator = new TestCoordinator();
    const r = runner(stream, store, coordinator);
    r.start();
    coordinator.acquire('test/b', 1);
    try {
      await until('first loop committing', () => commits > 2);
      // The lease moved on (epoch 2 elsewhere) and came back here (epoch 3) while the epoch-1 loop
      // was still finishing: its last commit is refused.
      store.refuse = (_key, fence) => fence?.epoch === 1;
      const halted = coordinator.events!.stop('test/b');
      coordinator.acquire('test/b', 3);
      await halted;
      await until('second loop committing under epoch 3', () => store.docs.get('test/b')?.fence?.epoch === 3);
      expect(coordinator.lostCalls).toEqual([{ id: 'test/b', epoch: 1 }]);
      expect(coordinator.held()).toEqual(['test/b']);
      expect(r.status()[0]).toMatchObject({ phase: 'running', leased: true, running: true });
      expect(coordinator.events?.phase('test/b')).toBe('running');
    } finally {
      await r.stop(5000);
    }
  });

  it('a loop that throws on its way out of a stop (a client library\'s own abort error) is not reported as failed', async () => {
    const lines: { level: number; msg: string }[] = [];
    const sink = new Writable({
      write: (chunk, _enc, done) => {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    const log = pino({ level: 'debug' }, sink);
    const stream = fakeStream('test/d', async (ctx) => {
      await ctx.sleep(60_000);
      // What gaxios throws for an aborted request: a plain Error, no AbortError name or code.
      throw new Error('This operation was aborted');
    });
    const coordinator = new TestCoordinator();
    const r = runner(stream, new MemoryStore(), coordinator, log);
    r.start();
    coordinator.acquire('test/d', 1);
    await until('running', () => r.status()[0]?.phase === 'running');
    await coordinator.events!.stop('test/d');
    await r.stop(5000);
    expect(lines.filter((l) => l.level >= 50).map((l) => l.msg)).toEqual([]);
    // Handed over, not failed: another replica may run it now.
    expect(r.status()[0]?.phase).toBe('elsewhere');
  });

  it('reports no phase for a stream it does not run, so the coordinator never renews such a lease', async () => {
    const coordinator = new TestCoordinator();
    const r = runner(fakeStream('test/c', async (ctx) => ctx.sleep(60_000)), new MemoryStore(), coordinator);
    r.start();
    try {
      expect(coordinator.events?.phase('test/c')).toBeUndefined();
      coordinator.acquire('test/c', 1);
      expect(coordinator.events?.phase('test/c')).toBeDefined();
      await coordinator.events!.stop('test/c');
      expect(coordinator.events?.phase('test/c')).toBeUndefined();
      expect(r.status()[0]).toMatchObject({ running: false });
      // While the daemon stops, ended loops are 'stopping' until their leases are handed back.
      coordinator.acquire('test/c', 2);
      let during: string | undefined;
      const stopCoordinator = coordinator.stop.bind(coordinator);
      coordinator.stop = async () => {
        during = coordinator.events?.phase('test/c');
        await stopCoordinator();
      };
      await r.stop(5000);
      expect(during).toBe('stopping');
    } finally {
      await r.stop(5000);
    }
  });
});
