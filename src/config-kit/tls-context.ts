import { createSecureContext, getCACertificates, type SecureContext } from 'node:tls';
import type { ClientTls } from './fields.ts';

/**
 * The `connect` options of an undici Agent for the configured TLS material. One SecureContext per
 * distinct material, shared by every connection and every pool that uses it: given `ca`/`cert`/`key`
 * directly, Node builds a new context (and certificate store) for each connection, which with a
 * hundred tenants' pools was tens of MB of native memory and a certificate parse per handshake.
 *
 * `ca` is trusted in addition to Node's default roots, as the config schema says ("extra CA").
 */
const contexts = new Map<string, SecureContext>();

export function tlsConnectOptions(tls: ClientTls | undefined): { secureContext?: SecureContext } {
  if (!tls || (tls.ca === undefined && tls.cert === undefined && tls.key === undefined)) return {};
  const key = JSON.stringify([tls.ca ?? null, tls.cert ?? null, tls.key ?? null]);
  let secureContext = contexts.get(key);
  if (!secureContext) {
    secureContext = createSecureContext({
      ...(tls.ca !== undefined ? { ca: [...getCACertificates('default'), tls.ca] } : {}),
      ...(tls.cert !== undefined ? { cert: tls.cert } : {}),
      ...(tls.key !== undefined ? { key: tls.key } : {}),
    });
    contexts.set(key, secureContext);
  }
  return { secureContext };
}
