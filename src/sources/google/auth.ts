import { readFileSync } from 'node:fs';
import { tlsConnectOptions } from '../../config-kit/tls-context.ts';
import { isAbsolute, resolve } from 'node:path';
import { JWT } from 'google-auth-library';
import { Agent, fetch as undiciFetch } from 'undici';
import type { ClientTls } from '../../config-kit/fields.ts';
import { StreamConfigError } from '../../core/source.ts';
import { registerSecret } from '../../secrets/redact.ts';
import { GOOGLE_TOKEN_URI, type GoogleCustomerConfig, REPORTS_SCOPE } from './config.ts';

/**
 * Service account auth with domain-wide delegation: google-auth-library's `JWT` signs a JWT bearer
 * grant for `subject` with the Reports scope and caches/renews the access token.
 *
 * Both the token request and every API request go through the JWT's own Gaxios transporter, which
 * we give a `fetchImplementation` bound to an undici Agent: a configured CA (the emulator's) is
 * trusted for this customer only, without process-wide env vars. google-auth-library 11 hard-codes
 * the token URL, so a request interceptor on that transporter points it at `tokenUri` when set.
 */

export interface ServiceAccountKey {
  clientEmail: string;
  clientId: string;
  projectId: string;
  privateKey: string;
  privateKeyId?: string;
}

export interface GoogleAuth {
  jwt: JWT;
  key: Omit<ServiceAccountKey, 'privateKey'>;
  /**
   * Drops the cached access token so the next request signs a new assertion. For a 401: the token
   * was revoked or expired early on Google's clock, and the library (which caches it until its own
   * expiry, even with forceRefreshOnFailure) would otherwise send the same dead token every time.
   */
  renewToken(): void;
  close(): Promise<void>;
}

/** Reads the service account key (file or inline JSON). Throws StreamConfigError with what to fix. */
export function readServiceAccountKey(credentials: GoogleCustomerConfig['credentials'], baseDir: string = process.cwd()): ServiceAccountKey {
  let text: string;
  let where: string;
  if (credentials.keyFile) {
    const path = isAbsolute(credentials.keyFile) ? credentials.keyFile : resolve(baseDir, credentials.keyFile);
    where = path;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new StreamConfigError(
        `cannot read the service account key file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        'Check credentials.keyFile: the JSON key downloaded from the Cloud console (IAM & Admin > Service accounts > Keys).',
      );
    }
  } else {
    where = 'credentials.key';
    text = credentials.key ?? '';
  }
  registerSecret(text);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new StreamConfigError(`${where} is not JSON`, 'Give the service account JSON key as downloaded (type "service_account").');
  }
  const field = (name: string): string | undefined => (typeof json[name] === 'string' && json[name] !== '' ? (json[name] as string) : undefined);
  const privateKey = field('private_key');
  registerSecret(privateKey);
  const clientEmail = field('client_email');
  if (json['type'] !== 'service_account' || !privateKey || !clientEmail) {
    throw new StreamConfigError(
      `${where} is not a service account key (needs type "service_account", client_email and private_key)`,
      'Create a JSON key for the service account in the Cloud console (IAM & Admin > Service accounts > Keys > Add key).',
    );
  }
  return {
    clientEmail,
    clientId: field('client_id') ?? '(client_id missing from the key)',
    projectId: field('project_id') ?? clientEmail.split('@')[1]?.split('.')[0] ?? 'unknown',
    privateKey,
    privateKeyId: field('private_key_id'),
  };
}

function createFetch(tls: ClientTls | undefined): { fetch: typeof fetch; agent: Agent } {
  const agent = new Agent({ connect: tlsConnectOptions(tls), keepAliveTimeout: 30_000, headersTimeout: 60_000, bodyTimeout: 120_000 });
  const fetchImpl = (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) =>
    undiciFetch(input as Parameters<typeof undiciFetch>[0], { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher: agent });
  return { fetch: fetchImpl as unknown as typeof fetch, agent };
}

export function createGoogleAuth(customer: GoogleCustomerConfig, baseDir?: string): GoogleAuth {
  const key = readServiceAccountKey(customer.credentials, baseDir);
  const { fetch: fetchImplementation, agent } = createFetch(customer.tls);
  const jwt = new JWT({
    email: key.clientEmail,
    key: key.privateKey,
    keyId: key.privateKeyId,
    subject: customer.subject,
    scopes: [REPORTS_SCOPE],
    transporterOptions: { fetchImplementation },
  });
  const tokenUri = customer.tokenUri;
  if (tokenUri && tokenUri !== GOOGLE_TOKEN_URI) {
    jwt.transporter.interceptors.request.add({
      resolved: async (options) => {
        if (options.url.href === GOOGLE_TOKEN_URI) options.url = new URL(tokenUri);
        return options;
      },
    });
  }
  jwt.on('tokens', (tokens) => registerSecret(tokens.access_token));
  const { privateKey: _secret, ...publicPart } = key;
  // What the JWT client starts from: no token, and an expiry in the past, which forces a fresh one.
  const renewToken = () => jwt.setCredentials({ refresh_token: 'jwt-placeholder', expiry_date: 1 });
  return { jwt, key: publicPart, renewToken, close: () => agent.close() };
}
