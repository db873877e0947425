import { describe, expect, it } from 'vitest';
import { backfillConfig, isDone, positionOf, renderProgress, snapshot, type StreamProgressInput } from '../../src/backfill/plan.ts';
import { parseConfigText } from '../../src/config/load.ts';

const T0 = Date.parse('2026-11-22T10:00:00Z');
const H = 3_600_000;

const config = (google: boolean) =>
  parseConfigText(
    `sources:
  o365:
    - tenantId: 0b7b3a1e-2c4d-4e5f-8a9b-0c1d2e3f4a5b
      clientId: app
      clientSecret: not-a-real-secret
${google ? `  google:
    - customerId: C01
      credentials: { key: '{}' }
      subject: admin@example.test
      applications: [drive]
` : ''}`,
    'test.yaml',
    '/tmp',
  );

describe('backfill plan', () => {
  it('sets the initial look-back of every stream, Office 365 clamped to its 7 days with a note', () => {
    const plan = backfillConfig(config(true), 30 * 24 * H);
    expect(plan.config.sources.o365[0]!.initialLookback).toBe(7 * 24 * H);
    expect(plan.config.sources.google[0]!.initialLookback).toBe(30 * 24 * H);
    expect(plan.notes.join()).toContain('7 days');
  });

  it('goes back as far as each API keeps, with a note, and refuses nonsense', () => {
    const plan = backfillConfig(config(true), 181 * 24 * H);
    expect(plan.config.sources.google[0]!.initialLookback).toBe(180 * 24 * H);
    expect(plan.notes).toEqual([
      'Office 365 keeps 7 days of history: its streams go back 7d, not 181.0d',
      'Google Workspace keeps 180 days of history: its streams go back 180d, not 181.0d',
    ]);
    expect(backfillConfig(config(false), 181 * 24 * H).lookbackMs.o365).toBe(7 * 24 * H);
    expect(() => backfillConfig(config(false), 0)).toThrow(/positive/);
  });

  it('Office 365: caught up once listed to the start with nothing of the window pending but set-aside blobs', () => {
    const blob = (created: number, setAside = false) => ({ id: String(created), uri: 'u', created, expires: created + 7 * 24 * H, attempts: setAside ? 6 : 0, ...(setAside ? { setAside } : {}) });
    const doc = (listedUntil: number, pending: ReturnType<typeof blob>[]) => ({ v: 1, listedUntil, pending, done: {}, losses: [] });
    expect(positionOf('o365', undefined, T0)).toEqual({ caughtUp: false, setAside: 0 });
    expect(positionOf('o365', doc(T0 - H, []), T0)).toMatchObject({ caughtUp: false, position: T0 - H });
    expect(positionOf('o365', doc(T0, [blob(T0 - 2 * H)]), T0)).toMatchObject({ caughtUp: false, position: T0 - 2 * H });
    expect(positionOf('o365', doc(T0, [blob(T0 - 2 * H, true)]), T0)).toEqual({ caughtUp: true, position: T0, setAside: 1 });
    // Blobs created after the start belong to `run`.
    expect(positionOf('o365', doc(T0 + 5000, [blob(T0 + 1000)]), T0)).toMatchObject({ caughtUp: true });
  });

  it('Google: caught up once the first stage has read to the start', () => {
    expect(positionOf('google', { v: 1, ages: [0, 60_000], cursors: [T0 - 1000, T0 - H], seen: {} }, T0)).toMatchObject({ caughtUp: false, position: T0 - 1000 });
    expect(positionOf('google', { v: 1, ages: [0, 60_000], cursors: [T0 + 10, T0 - H], seen: {} }, T0).caughtUp).toBe(true);
  });

  it('progress: a mean over streams, done when each is caught up or stopped; a bar on a terminal, a line otherwise', () => {
    const input = (id: string, position: number | undefined, caughtUp: boolean, failed = false): StreamProgressInput => ({
      id,
      kind: 'o365',
      from: T0 - 4 * H,
      position: { ...(position !== undefined ? { position } : {}), caughtUp, setAside: 0 },
      failed,
      exported: 10,
    });
    const s = snapshot([input('a', T0 - 2 * H, false), input('b', undefined, true)], T0);
    expect(s.fraction).toBeCloseTo(0.75);
    expect(s.slowest).toEqual({ id: 'a', behindMs: 2 * H });
    expect(isDone(s)).toBe(false);
    expect(isDone(snapshot([input('a', T0, true), input('b', undefined, false, true)], T0))).toBe(true);
    expect(renderProgress(s, 10)).toBe('backfill [########--]  75%  1/2 streams caught up, 20 records exported, slowest a 2.0h behind');
    expect(renderProgress(s, 0)).toMatch(/^backfill {2}75%/);
  });
});
