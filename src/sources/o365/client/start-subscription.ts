import type { RawResponse } from '../http.ts';
import { authorizedRequest, feedUrl, type TenantClient } from './tenant-client.ts';

/** POST subscriptions/start?contentType=X (no webhook: we poll). */
export function startSubscription(client: TenantClient, token: string, contentType: string, signal?: AbortSignal): Promise<RawResponse> {
  return authorizedRequest(client, token, 'POST', feedUrl(client, 'subscriptions/start', { contentType }), signal);
}
