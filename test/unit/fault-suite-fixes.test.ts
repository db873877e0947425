import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Source, Stream } from '../../src/core/source.ts';
import { checkStoredState } from '../../src/daemon.ts';
import { createGoogleAuth } from '../../src/sources/google/auth.ts';
import type { GoogleCustomerConfig } from '../../src/sources/google/config.ts';
import { listActivities, MalformedPageError, type ReportsClient } from '../../src/sources/google/client/list-activities.ts';
import { FileStateStore } from '../../src/state/file-store.ts';
import { StateCorruptError } from '../../src/core/state-store.ts';

const sourceOf = (...ids: string[]): Source => ({ kind: 'test', streams: () => ids.map((id) => ({ id }) as Stream) });

describe('checkStoredState (before the daemon starts anything)', () => {
  it('passes over streams with good or no state, and stops on a corrupt file without touching it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'state-check-'));
    const store = await FileStateStore.open(dir);
    await store.put('o365/t/Audit.General', { v: 1, listedUntil: 1234567, pending: [], done: {}, losses: [] });
    await store.put('google/c/login', { v: 1 });
    await expect(checkStoredState(store, [sourceOf('o365/t/Audit.General', 'o365/t/DLP.All'), sourceOf('google/c/login')])).resolves.toBeUndefined();

    const file = join(dir, readdirSync(dir).find((n) => n.startsWith('o365'))!);
    const bytes = readFileSync(file);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 5] = (flipped[flipped.length - 5] as number) ^ 0x01;
    writeFileSync(file, flipped);
    const check = checkStoredState(store, [sourceOf('o365/t/Audit.General'), sourceOf('google/c/login')]);
    await expect(check).rejects.toBeInstanceOf(StateCorruptError);
    await expect(check).rejects.toThrow(file);
    expect(readFileSync(file)).toEqual(flipped);
    await store.close();
  });
});

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

describe('Google access token after a 401', () => {
  it('renewToken makes the next request sign a new assertion instead of reusing the cached token', async () => {
    let issued = 0;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        issued++;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: `token-${issued}`, expires_in: 3599, token_type: 'Bearer' }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const key = { type: 'service_account', project_id: 'p', client_email: 'sa@p.iam.gserviceaccount.com', client_id: '1', private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
    const customer = {
      credentials: { key: JSON.stringify(key) },
      subject: 'admin@example.test',
      tokenUri: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`,
    } as unknown as GoogleCustomerConfig;
    const auth = createGoogleAuth(customer);
    try {
      expect((await auth.jwt.getAccessToken()).token).toBe('token-1');
      // Cached until its own expiry: a 401 alone would not change that.
      expect((await auth.jwt.getAccessToken()).token).toBe('token-1');
      auth.renewToken();
      expect((await auth.jwt.getAccessToken()).token).toBe('token-2');
      expect(issued).toBe(2);
    } finally {
      await auth.close();
      server.close();
    }
  });
});
