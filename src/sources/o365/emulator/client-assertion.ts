import { constants, createHash, verify, X509Certificate } from 'node:crypto';

/**
 * Verifies a certificate client assertion (RFC 7523 JWT) the way Entra does: find the registered
 * certificate by the `x5t#S256` (or legacy SHA-1 `x5t`) header, check the RS256/PS256 signature
 * with its public key, then `aud` (the token endpoint), `iss` = `sub` = client id, and `exp`/`nbf`
 * with five minutes of clock tolerance. Returns the AADSTS failure, or undefined when valid.
 */
export interface AssertionFailure {
  code: number;
  description: string;
}

export interface RegisteredCertificate {
  sha256: string; // base64url of the DER SHA-256, as x5t#S256 carries it
  sha1: string; // base64url of the DER SHA-1, as x5t carries it
  certificate: X509Certificate;
}

const CLOCK_TOLERANCE_S = 300;

export function registerCertificate(pem: string): RegisteredCertificate {
  const certificate = new X509Certificate(pem);
  return {
    sha256: createHash('sha256').update(certificate.raw).digest('base64url'),
    sha1: createHash('sha1').update(certificate.raw).digest('base64url'),
    certificate,
  };
}

export function verifyClientAssertion(
  assertion: string,
  expected: { clientId: string; audiences: string[]; certificates: RegisteredCertificate[]; nowMs: number },
): AssertionFailure | undefined {
  const parts = assertion.split('.');
  if (parts.length !== 3) return { code: 50027, description: 'JWT token is invalid or malformed.' };
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  let header: Record<string, unknown>;
  let payload: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(headerPart, 'base64url').toString('utf8')) as Record<string, unknown>;
    payload = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return { code: 50027, description: 'JWT token is invalid or malformed.' };
  }

  const thumbprint = typeof header['x5t#S256'] === 'string' ? header['x5t#S256'] : undefined;
  const legacyThumbprint = typeof header['x5t'] === 'string' ? header['x5t'] : undefined;
  const registered = expected.certificates.find((c) => (thumbprint ? c.sha256 === thumbprint : c.sha1 === legacyThumbprint));
  if (!registered) {
    const key = thumbprint ?? legacyThumbprint ?? '(none)';
    return {
      code: 700027,
      description: `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${key}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${expected.clientId}'.]`,
    };
  }

  const data = Buffer.from(`${headerPart}.${payloadPart}`);
  const signature = Buffer.from(signaturePart, 'base64url');
  const key = registered.certificate.publicKey;
  let valid = false;
  try {
    if (header['alg'] === 'RS256') valid = verify('sha256', data, key, signature);
    else if (header['alg'] === 'PS256') {
      valid = verify('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, signature);
    }
  } catch {
    valid = false;
  }
  if (!valid) return { code: 7000274, description: 'Client assertion failed signature validation.' };

  const nowS = Math.floor(expected.nowMs / 1000);
  if (payload['iss'] !== expected.clientId || payload['sub'] !== expected.clientId) {
    return { code: 700021, description: "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials ." };
  }
  if (typeof payload['aud'] !== 'string' || !expected.audiences.includes(payload['aud'])) {
    return { code: 700023, description: `Client assertion audience claim does not match Realm issuer. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .` };
  }
  const exp = Number(payload['exp']);
  const nbf = payload['nbf'] === undefined ? nowS : Number(payload['nbf']);
  if (!Number.isFinite(exp) || exp + CLOCK_TOLERANCE_S < nowS || nbf - CLOCK_TOLERANCE_S > nowS) {
    return { code: 700024, description: `Client assertion is not within its valid time range. Current time: ${new Date(expected.nowMs).toISOString()}, assertion valid from ${new Date(nbf * 1000).toISOString()}, expiry time of assertion ${new Date(exp * 1000).toISOString()}.` };
  }
  return undefined;
}
