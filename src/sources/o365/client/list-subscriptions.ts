import type { RawResponse } from '../http.ts';
import { authorizedRequest, feedUrl, type TenantClient } from './tenant-client.ts';

export interface SubscriptionInfo {
  contentType: string;
  status: string;
  webhook: unknown;
}

/** GET subscriptions/list */
export function listSubscriptions(client: TenantClient, token: string, signal?: AbortSignal): Promise<RawResponse> {
  return authorizedRequest(client, token, 'GET', feedUrl(client, 'subscriptions/list'), signal);
}

export function parseSubscriptions(body: string): SubscriptionInfo[] {
  const parsed = JSON.parse(body) as unknown;
  if (!Array.isArray(parsed)) throw new Error('subscriptions/list did not return an array');
  return parsed.map((s) => ({ contentType: String(s?.contentType), status: String(s?.status), webhook: s?.webhook ?? null }));
}
