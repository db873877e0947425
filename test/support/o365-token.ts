import { type Agent, request } from 'undici';
import type { RunningEmulators } from '../../src/emulator/index.ts';

/**
 * A fresh access token straight from the Office 365 emulator's token endpoint (client secret grant),
 * bypassing msal's cache: msal caches by the real clock, the emulator may run on a test clock.
 */
export async function o365EmulatorToken(emulators: RunningEmulators, dispatcher: Agent): Promise<string> {
  const o365 = emulators.sources.o365;
  const r = await request(`${emulators.o365}/${o365.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    dispatcher,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: o365.clientId, client_secret: o365.clientSecret, scope: `${emulators.o365}/.default` }).toString(),
  });
  return ((await r.body.json()) as { access_token: string }).access_token;
}
