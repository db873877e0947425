import type { Agent } from 'undici';
import type { TenantThrottle } from '../api-call.ts';
import type { TokenProvider } from '../auth.ts';
import { httpRequest, type RawResponse } from '../http.ts';

/** What every operation needs to reach one tenant's feed. Shared by that tenant's streams. */
export interface TenantClient {
  tenantId: string;
  apiUrl: string;
  publisherIdentifier: string;
  dispatcher: Agent;
  tokens: TokenProvider;
  throttle: TenantThrottle;
}

export function feedUrl(client: TenantClient, path: string, query: Record<string, string> = {}): string {
  const url = new URL(`${client.apiUrl}/api/v1.0/${client.tenantId}/activity/feed/${path}`);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  return withPublisher(client, url.toString());
}

/**
 * PublisherIdentifier on every call, the blob GET and next-page URLs included: without it calls
 * share a global pool and get throttled (docs/api-notes.md#o365-operations).
 */
export function withPublisher(client: TenantClient, rawUrl: string): string {
  const url = new URL(rawUrl);
  if (!hasParam(url, 'PublisherIdentifier')) url.searchParams.set('PublisherIdentifier', client.publisherIdentifier);
  return url.toString();
}

function hasParam(url: URL, name: string): boolean {
  for (const key of url.searchParams.keys()) if (key.toLowerCase() === name.toLowerCase()) return true;
  return false;
}

export function authorizedRequest(
  client: TenantClient,
  token: string,
  method: 'GET' | 'POST',
  url: string,
  signal?: AbortSignal,
  streamBody = false,
): Promise<RawResponse> {
  return httpRequest(client.dispatcher, method, url, {
    streamBody,
    headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
    body: method === 'POST' ? '' : undefined,
    signal,
  });
}
