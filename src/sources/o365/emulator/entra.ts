import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, sendJson } from '../../shared/emulator/https.ts';
import { type RegisteredCertificate, verifyClientAssertion } from './client-assertion.ts';

/**
 * The Entra ID (login.microsoftonline.com) endpoints msal-node uses for a confidential client with
 * client credentials: tenant OpenID metadata, instance discovery, and the token endpoint (v2 with
 * `scope`, and v1 with `resource` as in the troubleshooting guide's PowerShell). Tokens are opaque:
 * the emulated API looks them up in `TokenStore` instead of validating a JWT.
 */
export interface AppRegistration {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  certificates: RegisteredCertificate[];
  /** App roles granted by admin consent, e.g. ActivityFeed.Read. */
  roles: string[];
}

export interface IssuedToken {
  tenantId: string;
  clientId: string;
  roles: string[];
  expiresMs: number;
}

export class TokenStore {
  readonly #tokens = new Map<string, IssuedToken>();

  issue(grant: Omit<IssuedToken, 'expiresMs'>, lifetimeMs: number, nowMs: number): string {
    if (this.#tokens.size > 10_000) for (const [t, v] of this.#tokens) if (v.expiresMs < nowMs) this.#tokens.delete(t);
    const token = `emu.${randomBytes(32).toString('base64url')}`;
    this.#tokens.set(token, { ...grant, expiresMs: nowMs + lifetimeMs });
    return token;
  }

  /** The grant, 'expired', or undefined for a token this emulator never issued. */
  lookup(token: string, nowMs: number): IssuedToken | 'expired' | undefined {
    const grant = this.#tokens.get(token);
    if (!grant) return undefined;
    return grant.expiresMs <= nowMs ? 'expired' : grant;
  }
}

export interface EntraOptions {
  app: AppRegistration;
  tokens: TokenStore;
  /** Emulator base URL: both the login authority and the API resource (`{url}/.default`). */
  baseUrl: () => string;
  tokenLifetimeMs: () => number;
  clock: () => number;
}

const TENANT_PATH = /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|\.well-known\/openid-configuration|oauth2\/v2\.0\/token|oauth2\/token|discovery\/v2\.0\/keys)$/;
const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access', 'email']);
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Handles the request if it is an Entra endpoint; returns false otherwise. */
export async function handleEntra(options: EntraOptions, req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<boolean> {
  if (req.method === 'GET' && path === '/common/discovery/instance') {
    sendJson(res, 200, instanceDiscovery(options, query));
    return true;
  }
  const match = TENANT_PATH.exec(path);
  if (!match) return false;
  const [, tenant, endpoint] = match as unknown as [string, string, string];
  if (!isKnownTenant(options.app, tenant)) {
    const body = entraError(options, 'invalid_tenant', 90002, `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`);
    sendJson(res, 400, body);
    return true;
  }
  if (req.method === 'GET' && endpoint.endsWith('openid-configuration')) {
    sendJson(res, 200, openIdConfiguration(options.baseUrl(), tenant, endpoint.startsWith('v2.0')));
    return true;
  }
  if (req.method === 'GET' && endpoint === 'discovery/v2.0/keys') {
    sendJson(res, 200, { keys: [] });
    return true;
  }
  if (req.method === 'POST' && endpoint.startsWith('oauth2/')) {
    const { status, body } = tokenRequest(options, tenant, endpoint === 'oauth2/v2.0/token', req.headers, new URLSearchParams(await readBody(req)));
    sendJson(res, status, body, { 'Cache-Control': 'no-store, no-cache', Pragma: 'no-cache' });
    return true;
  }
  sendJson(res, 405, { error: 'invalid_request', error_description: 'method not allowed' });
  return true;
}

function isKnownTenant(app: AppRegistration, tenant: string): boolean {
  return tenant.toLowerCase() === app.tenantId.toLowerCase() || tenant === 'organizations' || tenant === 'contoso.onmicrosoft.com';
}

function instanceDiscovery(options: EntraOptions, query: URLSearchParams): Record<string, unknown> {
  const host = new URL(options.baseUrl()).host;
  const authorize = query.get('authorization_endpoint') ?? '';
  const tenant = /\/([^/]+)\/oauth2\//.exec(authorize)?.[1] ?? options.app.tenantId;
  return {
    tenant_discovery_endpoint: `${options.baseUrl()}/${tenant}/v2.0/.well-known/openid-configuration`,
    'api-version': '1.1',
    metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
  };
}

function openIdConfiguration(base: string, tenant: string, v2: boolean): Record<string, unknown> {
  const root = `${base}/${tenant}`;
  return {
    token_endpoint: v2 ? `${root}/oauth2/v2.0/token` : `${root}/oauth2/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${root}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: v2 ? `${root}/v2.0` : `${root}/`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${base}/oidc/userinfo`,
    authorization_endpoint: v2 ? `${root}/oauth2/v2.0/authorize` : `${root}/oauth2/authorize`,
    device_authorization_endpoint: `${root}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${root}/oauth2/v2.0/logout`,
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'tid', 'ver'],
    tenant_region_scope: 'NA',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
  };
}

interface TokenAnswer {
  status: number;
  body: Record<string, unknown>;
}

function tokenRequest(options: EntraOptions, tenant: string, v2: boolean, headers: IncomingMessage['headers'], form: URLSearchParams): TokenAnswer {
  const { app } = options;
  const fail = (status: number, error: string, code: number, description: string): TokenAnswer => ({ status, body: entraError(options, error, code, description) });
  const basic = parseBasicAuth(headers.authorization);
  const clientId = form.get('client_id') ?? basic?.id;
  const grantType = form.get('grant_type');

  if (!grantType) return fail(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'grant_type'.");
  if (grantType !== 'client_credentials') return fail(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grantType}'.`);
  if (!clientId) return fail(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.");
  if (clientId !== app.clientId) {
    return fail(
      400,
      'unauthorized_client',
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
    );
  }

  const resourceProblem = v2 ? checkScope(options, form.get('scope')) : checkResource(options, form.get('resource'), tenant);
  if (resourceProblem) return resourceProblem;

  const secret = form.get('client_secret') ?? basic?.secret;
  const assertion = form.get('client_assertion');
  if (secret !== undefined && secret !== null) {
    if (!sameSecret(secret, app.clientSecret)) {
      return fail(
        401,
        'invalid_client',
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`,
      );
    }
  } else if (assertion) {
    if (form.get('client_assertion_type') !== JWT_BEARER) {
      return fail(400, 'invalid_request', 50027, `Invalid client_assertion_type: expected '${JWT_BEARER}'.`);
    }
    const root = `${options.baseUrl()}/${tenant}`;
    const failure = verifyClientAssertion(assertion, {
      clientId: app.clientId,
      audiences: [`${root}/oauth2/v2.0/token`, `${root}/oauth2/token`, `${root}/v2.0`],
      certificates: app.certificates,
      nowMs: options.clock(),
    });
    if (failure) return fail(401, 'invalid_client', failure.code, failure.description);
  } else {
    return fail(401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
  }

  const nowMs = options.clock();
  const lifetimeMs = options.tokenLifetimeMs();
  const accessToken = options.tokens.issue({ tenantId: app.tenantId, clientId: app.clientId, roles: app.roles }, lifetimeMs, nowMs);
  const expiresIn = Math.floor(lifetimeMs / 1000);
  const body: Record<string, unknown> = { token_type: 'Bearer', expires_in: expiresIn, ext_expires_in: expiresIn, access_token: accessToken };
  if (!v2) {
    // v1 answers with strings and the resource, as in the guide's sample response.
    Object.assign(body, {
      expires_in: String(expiresIn),
      ext_expires_in: String(expiresIn),
      expires_on: String(Math.floor(nowMs / 1000) + expiresIn),
      not_before: String(Math.floor(nowMs / 1000)),
      resource: options.baseUrl(),
    });
  }
  return { status: 200, body };
}

function checkScope(options: EntraOptions, scope: string | null): TokenAnswer | undefined {
  if (!scope) return { status: 400, body: entraError(options, 'invalid_request', 900144, "The request body must contain the following parameter: 'scope'.") };
  const scopes = scope.split(/\s+/).filter((s) => s && !OIDC_SCOPES.has(s.toLowerCase()));
  const expected = `${options.baseUrl()}/.default`.toLowerCase();
  if (scopes.length === 1 && scopes[0]?.toLowerCase() === expected) return undefined;
  const wrongResource = scopes.find((s) => s.toLowerCase().endsWith('/.default') && s.toLowerCase() !== expected);
  if (wrongResource) {
    const resource = wrongResource.slice(0, -'/.default'.length);
    return {
      status: 400,
      body: entraError(
        options,
        'invalid_resource',
        500011,
        `The resource principal named ${resource} was not found in the tenant named ${options.app.tenantId}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
      ),
    };
  }
  return {
    status: 400,
    body: entraError(
      options,
      'invalid_scope',
      1002012,
      `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    ),
  };
}

function checkResource(options: EntraOptions, resource: string | null, tenant: string): TokenAnswer | undefined {
  if (resource && resource.replace(/\/+$/, '').toLowerCase() === options.baseUrl().toLowerCase()) return undefined;
  return {
    status: 400,
    body: entraError(options, 'invalid_resource', 500011, `The resource principal named ${resource ?? '(none)'} was not found in the tenant named ${tenant}.`),
  };
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function parseBasicAuth(header: string | undefined): { id: string; secret: string } | undefined {
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { id: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)) };
}

/** Entra's error body: the AADSTS code leads the description, trace and correlation ids follow. */
function entraError(options: EntraOptions, error: string, code: number, description: string): Record<string, unknown> {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date(options.clock()).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  return {
    error,
    error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `${options.baseUrl()}/error?code=${code}`,
  };
}
