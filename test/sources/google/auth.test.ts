import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createGoogleAuth } from '../../../src/sources/google/auth.ts';
import type { GoogleCustomerConfig } from '../../../src/sources/google/config.ts';

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
