import { describe, expect, it } from 'vitest';
import { listActivities, MalformedPageError, type ReportsClient } from '../../../../src/sources/google/client/list-activities.ts';

describe('listActivities on a 200 whose body is not a page', () => {
  const clientAnswering = (data: unknown) => ({ activities: { list: async () => ({ data }) } }) as unknown as ReportsClient;
  const query = { customerId: 'C0', applicationName: 'login', userKey: 'all', startTime: '2026-01-01T00:00:00Z', endTime: '2026-01-01T01:00:00Z', maxResults: 1000 };

  it.each([
    ['an HTML page', '<!DOCTYPE html><html><body>Service Unavailable</body></html>'],
    ['truncated JSON (the library hands over the text)', '{"kind":"admin#reports#activities","items":[{"id":'],
    ['a JSON array', []],
    ['null', null],
    ['items that are not an array', { kind: 'admin#reports#activities', items: 'x' }],
  ])('fails on %s instead of reading an empty last page', async (_what, data) => {
    await expect(listActivities(clientAnswering(data), query)).rejects.toBeInstanceOf(MalformedPageError);
  });

  it('reads a page without items as empty (Google leaves items out when there are none)', async () => {
    expect(await listActivities(clientAnswering({ kind: 'admin#reports#activities' }), query)).toEqual({ items: [], nextPageToken: undefined });
    expect(await listActivities(clientAnswering({ items: [{ a: 1 }], nextPageToken: 't' }), query)).toEqual({ items: [{ a: 1 }], nextPageToken: 't' });
  });
});
