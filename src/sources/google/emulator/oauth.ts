import { createPublicKey, createVerify, type KeyObject, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, sendJson } from '../../shared/emulator/https.ts';
import { GOOGLE_TOKEN_URI } from '../config.ts';

/**
 * Google's OAuth token endpoint for the JWT bearer grant of a service account with domain-wide
 * delegation: verifies the RS256 assertion with the service account's public key, the audience,
 * iat/exp against its own clock, the delegation of the client id for the scope, and the subject.
 * Answers with Google's error shapes (`unauthorized_client`, `invalid_grant`).
 */

export interface ServiceAccount {
  clientEmail: string;
  clientId: string;
  projectId: string;
  publicKey: KeyObject;
  /** Scopes domain-wide delegation grants this client id (Admin console). */
  delegatedScopes: string[];
}

export interface IssuedToken {
  subject: string;
  projectId: string;
  expiresAt: number;
}

export interface OAuthState {
  accounts: Map<string, ServiceAccount>;
  /** Users of the domain: email -> has the Reports privilege. */
  users: Map<string, boolean>;
  tokens: Map<string, IssuedToken>;
  clock: () => number;
  tokenUrl: () => string;
}

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const SKEW_TOLERANCE_S = 300;

export async function handleToken(state: OAuthState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'POST') return sendJson(res, 405, { error: 'invalid_request', error_description: 'POST only' });
  const form = new URLSearchParams(await readBody(req));
  if (form.get('grant_type') !== JWT_BEARER) {
    return sendJson(res, 400, { error: 'unsupported_grant_type', error_description: `Invalid grant_type: ${form.get('grant_type') ?? ''}` });
  }
  const parts = (form.get('assertion') ?? '').split('.');
  const grantError = (description: string) => sendJson(res, 400, { error: 'invalid_grant', error_description: description });
  if (parts.length !== 3) return grantError('Invalid JWT: malformed');
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  let header: Record<string, unknown>;
  let claims: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(headerPart, 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8'));
  } catch {
    return grantError('Invalid JWT: not JSON');
  }
  const account = state.accounts.get(String(claims['iss']));
  if (!account || header['alg'] !== 'RS256') return grantError('Invalid JWT Signature.');
  const verifier = createVerify('RSA-SHA256');
  verifier.update(`${headerPart}.${payloadPart}`);
  if (!verifier.verify(account.publicKey, Buffer.from(signaturePart, 'base64url'))) return grantError('Invalid JWT Signature.');
  if (claims['aud'] !== GOOGLE_TOKEN_URI && claims['aud'] !== state.tokenUrl()) return grantError('Invalid JWT: Failed audience check.');
  const nowS = Math.floor(state.clock() / 1000);
  const iat = Number(claims['iat']);
  const exp = Number(claims['exp']);
  if (!(Math.abs(iat - nowS) <= SKEW_TOLERANCE_S && exp > nowS && exp - iat <= 3600)) {
    return grantError(
      'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.',
    );
  }
  const scopes = String(claims['scope'] ?? '').split(' ').filter(Boolean);
  const subject = typeof claims['sub'] === 'string' ? claims['sub'] : undefined;
  if (!subject) return grantError('Domain-wide delegation needs a subject (sub).');
  if (scopes.length === 0 || !scopes.every((s) => account.delegatedScopes.includes(s))) {
    return sendJson(res, 401, {
      error: 'unauthorized_client',
      error_description: 'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.',
    });
  }
  if (!state.users.has(subject.toLowerCase())) return grantError('Invalid email or User ID');
  const token = `ya29.emu-${randomBytes(24).toString('base64url')}`;
  state.tokens.set(token, { subject: subject.toLowerCase(), projectId: account.projectId, expiresAt: state.clock() + 3600_000 });
  sendJson(res, 200, { access_token: token, expires_in: 3599, token_type: 'Bearer' });
}

export function publicKeyOf(privateKeyPem: string): KeyObject {
  return createPublicKey(privateKeyPem);
}
