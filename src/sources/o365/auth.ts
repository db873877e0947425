import { createHash, X509Certificate } from 'node:crypto';
import { ConfidentialClientApplication, type Configuration, LogLevel } from '@azure/msal-node';
import type { Agent } from 'undici';
import { StreamConfigError } from '../../core/source.ts';
import { redactText, registerSecret } from '../../secrets/redact.ts';
import type { O365TenantConfig } from './config.ts';
import { httpRequest } from './http.ts';

/**
 * Entra app-only tokens (client credentials) through msal-node, with a client secret or a
 * certificate. msal caches the token and renews it before expiry; `invalidate()` after a 401 makes
 * the next call fetch a new one. All of msal's HTTP goes through our undici pool, so a custom CA
 * (the emulator's, a proxy's) applies to login as it does to the API.
 */
export class TokenProvider {
  readonly #app: ConfidentialClientApplication;
  readonly #scope: string;
  #forceRefresh = false;

  constructor(tenant: O365TenantConfig, urls: { apiUrl: string; loginUrl: string }, dispatcher: Agent) {
    registerSecret(tenant.clientSecret);
    registerSecret(tenant.certificate?.privateKey);
    const loginHost = new URL(urls.loginUrl).host;
    const config: Configuration = {
      auth: {
        clientId: tenant.clientId,
        authority: `${urls.loginUrl}/${tenant.tenantId}`,
        knownAuthorities: [loginHost],
        ...(tenant.clientSecret ? { clientSecret: tenant.clientSecret } : { clientCertificate: certificateCredential(tenant) }),
      },
      system: {
        networkClient: {
          sendGetRequestAsync: (url, options) => msalRequest(dispatcher, 'GET', url, options),
          sendPostRequestAsync: (url, options) => msalRequest(dispatcher, 'POST', url, options),
        },
        loggerOptions: { logLevel: LogLevel.Error, piiLoggingEnabled: false, loggerCallback: () => undefined },
      },
    };
    this.#app = new ConfidentialClientApplication(config);
    this.#scope = `${urls.apiUrl}/.default`;
  }

  /** A valid bearer token; throws StreamConfigError when Entra refuses the credentials. */
  async token(): Promise<string> {
    const skipCache = this.#forceRefresh;
    this.#forceRefresh = false;
    try {
      const result = await this.#app.acquireTokenByClientCredential({ scopes: [this.#scope], skipCache });
      if (!result?.accessToken) throw new Error('Entra returned no access token');
      registerSecret(result.accessToken);
      return result.accessToken;
    } catch (err) {
      throw classifyTokenError(err);
    }
  }

  /** After a 401 from the API: the cached token is no good, fetch a new one next time. */
  invalidate(): void {
    this.#forceRefresh = true;
  }
}

function certificateCredential(tenant: O365TenantConfig): { privateKey: string; thumbprintSha256?: string; thumbprint?: string; x5c?: string } {
  const cert = tenant.certificate!;
  if (cert.certificate) {
    const x509 = new X509Certificate(cert.certificate);
    return {
      privateKey: cert.privateKey,
      thumbprintSha256: createHash('sha256').update(x509.raw).digest('hex'),
      x5c: cert.certificate,
    };
  }
  return { privateKey: cert.privateKey, thumbprintSha256: cert.thumbprintSha256, thumbprint: cert.thumbprint };
}

async function msalRequest<T>(
  dispatcher: Agent,
  method: 'GET' | 'POST',
  url: string,
  options?: { headers?: Record<string, string>; body?: string },
): Promise<{ headers: Record<string, string>; body: T; status: number }> {
  const res = await httpRequest(dispatcher, method, url, { headers: options?.headers, body: options?.body });
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    body = { error: 'invalid_response', error_description: `login endpoint answered HTTP ${res.status} with a non-JSON body` };
  }
  return { headers: res.headers, body: body as T, status: res.status };
}

/** Entra error codes that only the operator can fix, with what to do. */
const AADSTS_HINTS: [RegExp, string][] = [
  [/AADSTS7000215|AADSTS7000222|invalid_client/i, 'the client secret is wrong or expired: create a new secret for the app registration and update the config'],
  [/AADSTS700016/i, 'no app with this client id in the tenant: check clientId and tenantId, and that the app is consented in this tenant'],
  [/AADSTS90002|AADSTS90013/i, 'the tenant was not found: check tenantId and the cloud (enterprise, gcc, gcc-high, dod)'],
  [/AADSTS700027|AADSTS700023|AADSTS50012/i, 'the certificate assertion was refused: check that the certificate is uploaded to the app registration and the private key matches'],
  [/AADSTS500011/i, 'the resource (Office 365 Management APIs) is not known in this tenant: grant the app the ActivityFeed.Read permission and admin consent'],
  [/AADSTS7000112|AADSTS700024/i, 'the app is disabled or the assertion is outside its validity: check the app registration and the host clock'],
];

function classifyTokenError(err: unknown): Error {
  const text = redactText(err instanceof Error ? `${err.message} ${(err as { errorCode?: string }).errorCode ?? ''}` : String(err));
  for (const [re, hint] of AADSTS_HINTS) {
    if (re.test(text)) return new StreamConfigError(`Entra refused the token request: ${text.slice(0, 300)}`, hint);
  }
  // Network trouble, 5xx, throttling at login: transient.
  return new Error(`token request failed: ${text.slice(0, 300)}`);
}
