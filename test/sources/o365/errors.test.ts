import { describe, expect, it } from 'vitest';
import { classifyApiResponse, serverTime } from '../../../src/sources/o365/errors.ts';
import { nextPageUri, parseContentPage } from '../../../src/sources/o365/client/list-content.ts';
import { readBlob } from '../../../src/sources/o365/client/fetch-blob.ts';
import { PageGuard } from '../../../src/sources/o365/pagination.ts';
import { subscriptionAction, START_INTERVAL_MS } from '../../../src/sources/o365/subscriptions.ts';

const now = Date.parse('2026-11-22T05:00:00Z');
const meaning = (r: ReturnType<typeof res>) => {
  const v = classifyApiResponse(r, now);
  return v.kind === 'other' ? v.meaning : v.kind;
};
const res = (status: number, code?: string, headers: Record<string, string> = {}, message = 'msg') => ({
  status,
  headers,
  body: code ? JSON.stringify({ error: { code, message } }) : '',
});

describe('classifyApiResponse', () => {
  it('treats AF429 as throttling whether it comes as 403 or 429, and honours Retry-After', () => {
    expect(classifyApiResponse(res(403, 'AF429'), now)).toEqual({ kind: 'throttled', reason: 'AF429', retryAfterMs: undefined });
    expect(classifyApiResponse(res(429, undefined, { 'retry-after': '7' }), now)).toEqual({ kind: 'throttled', reason: 'HTTP 429', retryAfterMs: 7000 });
  });

  it('maps subscription codes to their meaning', () => {
    expect(meaning(res(400, 'AF20024'))).toBe('already-enabled');
    expect(meaning(res(400, 'AF20022'))).toBe('no-subscription');
    expect(meaning(res(400, 'AF20023'))).toBe('subscription-disabled');
  });

  it('sends configuration problems to the operator with a fix', () => {
    const v = classifyApiResponse(res(403, 'AF20011'), now);
    expect(v.kind).toBe('config');
    expect(v.kind === 'config' && v.hint).toMatch(/audit/i);
    expect(classifyApiResponse(res(401), now)).toMatchObject({ kind: 'auth-expired', ifPersistent: { kind: 'config' } });
    expect(classifyApiResponse(res(403, 'AF10001'), now).kind).toBe('config');
  });

  it('retries internal errors and unavailable backends', () => {
    for (const r of [res(500, 'AF50000'), res(503), res(408), res(500, 'AF50006')]) expect(classifyApiResponse(r, now).kind).toBe('transient');
  });

  it('recognises bad windows, bad next pages and gone content', () => {
    expect(meaning(res(400, 'AF20055'))).toBe('bad-window');
    expect(meaning(res(400, 'AF20030'))).toBe('bad-window');
    expect(meaning(res(400, 'AF20031'))).toBe('bad-next-page');
    expect(classifyApiResponse(res(400, 'AF20051'), now)).toMatchObject({ kind: 'other', meaning: 'content-gone', code: 'AF20051' });
    expect(classifyApiResponse(res(404), now)).toMatchObject({ kind: 'other', meaning: 'content-gone', code: 'HTTP 404' });
  });

  it('survives an HTML error page', () => {
    const v = classifyApiResponse({ status: 502, headers: {}, body: '<html><body>Bad gateway</body></html>' }, now);
    expect(v.kind).toBe('transient');
  });

  it('reads the server clock from the Date header', () => {
    expect(serverTime({ status: 200, headers: { date: 'Sun, 22 Nov 2026 05:00:00 GMT' }, body: '' })).toBe(now);
  });
});

describe('listing pages', () => {
  it('follows NextPageUri or NextPageUrl in any case (undici lower-cases names)', () => {
    expect(nextPageUri({ nextpageuri: 'https://a/next' })).toBe('https://a/next');
    expect(nextPageUri({ nextpageurl: 'https://a/next2' })).toBe('https://a/next2');
    expect(nextPageUri({ nextpageuri: ' ' })).toBeUndefined();
    expect(nextPageUri({})).toBeUndefined();
  });

  it('refuses a listing that is not the documented array', () => {
    expect(() => parseContentPage('{"a":1}')).toThrow(/not a JSON array/);
    expect(() => parseContentPage('[{"contentId":"x"}]')).toThrow(/lacks/);
    expect(parseContentPage('[]')).toEqual([]);
  });

  it('stops a looping pagination', () => {
    const guard = new PageGuard();
    expect(guard.check('https://a/1')).toBeUndefined();
    expect(guard.check('https://a/2')).toBeUndefined();
    expect(guard.check('https://a/1')).toMatch(/repeated/);
  });

  it('refuses a blob body that is HTML, truncated or not an array', async () => {
    const read = async (body: string) => {
      const batches: unknown[][] = [];
      for await (const b of readBlob({ status: 200, headers: {}, body }, 2)) batches.push(b);
      return batches;
    };
    await expect(read('<html>')).rejects.toThrow(/not a JSON array \(starts with "<html>"\)/);
    await expect(read('[{"Id":"a"},')).rejects.toThrow(/truncated after 1 complete records/);
    await expect(read('{"Id":"a"}')).rejects.toThrow(/not a JSON array/);
    expect(await read('[{"Id":"a"},{"Id":"b"},{"Id":"c"}]')).toEqual([[{ Id: 'a' }, { Id: 'b' }], [{ Id: 'c' }]]);
  });
});

describe('subscriptionAction', () => {
  it('starts a missing subscription at most once per 15 minutes', () => {
    expect(subscriptionAction(true, undefined, now)).toEqual({ kind: 'none' });
    expect(subscriptionAction(false, undefined, now)).toEqual({ kind: 'start' });
    expect(subscriptionAction(false, now - 60_000, now)).toEqual({ kind: 'wait', ms: START_INTERVAL_MS - 60_000 });
    expect(subscriptionAction(false, now - START_INTERVAL_MS, now)).toEqual({ kind: 'start' });
  });
});
