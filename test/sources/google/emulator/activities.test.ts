import { describe, expect, it } from 'vitest';
import { type ActivityQuery, ActivityStore, type EmulatedActivity } from '../../../../src/sources/google/emulator/activities.ts';
import { pageJson } from '../../../../src/sources/google/emulator/reports.ts';
import { Random } from '../../../../src/sources/shared/emulator/random.ts';

/** What ActivityStore.query answered before it was indexed: filter everything, then sort. */
function reference(all: EmulatedActivity[], q: ActivityQuery): EmulatedActivity[] {
  return all
    .filter(
      (a) =>
        a.application === q.application &&
        a.visibleAt <= q.visibleAt &&
        (q.startMs === undefined || a.time >= q.startMs) &&
        (q.endMs === undefined || a.time < q.endMs) &&
        (q.userKey === 'all' || q.userKey === a.actorEmail) &&
        (q.eventName === undefined || a.eventNames.includes(q.eventName)) &&
        (q.actorIpAddress === undefined || a.body['ipAddress'] === q.actorIpAddress),
    )
    .sort((x, y) => y.time - x.time || (x.uids[0] as string).localeCompare(y.uids[0] as string));
}

const T0 = Date.UTC(2026, 0, 5);
const M = 60_000;

describe('ActivityStore.query (indexed by time)', () => {
  it('answers exactly what filtering and sorting everything answers, as activities keep arriving out of order', () => {
    const store = new ActivityStore({ customerId: 'C0test', domain: 'example.test', seed: 11, lagScale: 1 / 720 });
    const all: EmulatedActivity[] = [];
    const random = new Random('store-test');
    // History in order (as the emulator fills it), with equal times across and within applications.
    for (let t = T0 - 600 * M; t < T0; t += 30_000) for (const app of ['login', 'drive']) all.push(store.generate(app, Math.round(t / M) * M));
    for (let round = 0; round < 40; round++) {
      // A few late ones in the past, some at a time already taken, some with a lag given.
      const batch = random.int(0, round % 5 === 0 ? 200 : 5);
      for (let i = 0; i < batch; i++) {
        const time = random.chance(0.3) ? (all[random.int(0, all.length - 1)] as EmulatedActivity).time : T0 - random.int(0, 700 * M);
        all.push(store.generate(random.pick(['login', 'drive', 'admin']), time, random.chance(0.5) ? random.int(0, 3 * M) : undefined));
      }
      for (let k = 0; k < 6; k++) {
        // Half the bounds fall on a minute, where activities are: the edges must be exact.
        const at = (ms: number) => (random.chance(0.5) ? Math.round(ms / M) * M : ms);
        const startMs = random.chance(0.2) ? undefined : at(T0 - random.int(0, 720 * M));
        const q: ActivityQuery = {
          application: random.pick(['login', 'drive', 'admin', 'token']),
          userKey: random.chance(0.8) ? 'all' : `user${random.int(1, 40)}@example.test`,
          startMs,
          endMs: random.chance(0.2) ? undefined : at((startMs ?? T0 - 720 * M) + random.int(0, 400 * M)),
          visibleAt: T0 + random.int(-60 * M, 600 * M),
          ...(random.chance(0.2) ? { eventName: random.pick(['login_success', 'view', 'edit']) } : {}),
          ...(random.chance(0.1) ? { actorIpAddress: `203.0.113.${random.int(1, 254)}` } : {}),
        };
        const expected = reference(all, q);
        expect(store.query(q)).toEqual(expected);
        // Asked again (the next page of the same page set): the same answer.
        expect(store.query(q)).toEqual(expected);
      }
    }
  });

  it('sees an activity generated after a query was answered (the kept answer is dropped)', () => {
    const store = new ActivityStore({ customerId: 'C0test', domain: 'example.test', seed: 12, lagScale: 1 / 720 });
    for (let i = 0; i < 100; i++) store.generate('login', T0 - i * M, 0);
    const q: ActivityQuery = { application: 'login', userKey: 'all', startMs: T0 - 50 * M, endMs: T0, visibleAt: T0 };
    expect(store.query(q)).toHaveLength(50);
    const late = store.generate('login', T0 - 10 * M - 1, 0);
    const after = store.query(q);
    expect(after).toHaveLength(51);
    expect(after[10]).toBe(late);
  });

  it('keeps each body as JSON text and writes a page exactly as JSON.stringify wrote the page object', () => {
    const store = new ActivityStore({ customerId: 'C0test', domain: 'example.test', seed: 13, lagScale: 1 / 720 });
    for (let i = 0; i < 300; i++) store.generate(['login', 'drive', 'token'][i % 3] as string, T0 - i * 1000);
    const page = store.query({ application: 'login', userKey: 'all', visibleAt: T0 + 1e9 });
    expect(page).toHaveLength(100);
    for (const a of page) {
      expect(JSON.stringify(a.body)).toBe(a.json);
      expect(a.body).toMatchObject({ kind: 'admin#reports#activity', ipAddress: a.ipAddress, actor: { email: a.actorEmail }, id: { applicationName: 'login' } });
      expect(a.body).not.toBe(a.body); // a fresh object each time: callers cannot change what is stored
    }
    const object = (items: EmulatedActivity[], nextPageToken?: string) =>
      JSON.stringify({ kind: 'admin#reports#activities', etag: '"ab\\c"', items: items.map((a) => a.body), ...(nextPageToken === undefined ? {} : { nextPageToken }) });
    expect(pageJson('"ab\\c"', page, undefined)).toBe(object(page));
    expect(pageJson('"ab\\c"', page.slice(0, 1), 'eyJxIjoiYSJ9')).toBe(object(page.slice(0, 1), 'eyJxIjoiYSJ9'));
    expect(pageJson('"ab\\c"', [], 'x"y')).toBe(object([], 'x"y'));
  });
});
