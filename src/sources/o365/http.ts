import { Agent, request } from 'undici';
import { tlsConnectOptions } from '../../config-kit/tls-context.ts';
import type { ClientTls } from '../../config-kit/fields.ts';

/** A raw HTTP answer: the API client returns these, decisions are made elsewhere (errors.ts). */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /**
   * Set instead of `body` on a 2xx answer to a request made with `streamBody`: the caller reads it
   * (and must read or destroy it, or the connection is not reused).
   */
  stream?: AsyncIterable<Uint8Array> & { destroy(err?: Error): unknown };
}

/** One undici connection pool per tenant, trusting the configured CA (e.g. the emulator's) if any. */
export function createDispatcher(tls: ClientTls | undefined): Agent {
  return new Agent({
    connect: tlsConnectOptions(tls),
    keepAliveTimeout: 30_000,
    connections: 32,
    // Large blobs exist: never cut a slow body short on the client side beyond this.
    bodyTimeout: 5 * 60_000,
    headersTimeout: 60_000,
  });
}

export async function httpRequest(
  dispatcher: Agent,
  method: 'GET' | 'POST',
  url: string,
  options: { headers?: Record<string, string>; body?: string; signal?: AbortSignal; streamBody?: boolean } = {},
): Promise<RawResponse> {
  const res = await request(url, { method, dispatcher, headers: options.headers, body: options.body, signal: options.signal });
  if (options.streamBody && res.statusCode >= 200 && res.statusCode < 300) {
    return { status: res.statusCode, headers: flattenHeaders(res.headers), body: '', stream: res.body };
  }
  const body = await res.body.text();
  return { status: res.statusCode, headers: flattenHeaders(res.headers), body };
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}
