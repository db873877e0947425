import type { RawResponse } from '../http.ts';
import { authorizedRequest, feedUrl, type TenantClient } from './tenant-client.ts';

/** One webhook delivery attempt, as `subscriptions/notifications` lists it (debugging only). */
export interface NotificationInfo {
  contentId: string;
  contentCreated: string;
  notificationStatus: string;
  notificationSent?: string;
}

/**
 * GET subscriptions/notifications?contentType=X: the webhook notifications of the last 24 hours
 * (no times given) and whether each was delivered. Only meaningful for a subscription with a webhook.
 */
export function listNotifications(client: TenantClient, token: string, contentType: string, signal?: AbortSignal): Promise<RawResponse> {
  return authorizedRequest(client, token, 'GET', feedUrl(client, 'subscriptions/notifications', { contentType }), signal);
}

export function parseNotifications(body: string): NotificationInfo[] {
  const parsed = JSON.parse(body) as unknown;
  if (!Array.isArray(parsed)) throw new Error('subscriptions/notifications did not return an array');
  return parsed.map((n) => ({
    contentId: String(n?.contentId ?? ''),
    contentCreated: String(n?.contentCreated ?? ''),
    notificationStatus: String(n?.notificationStatus ?? ''),
    ...(typeof n?.notificationSent === 'string' ? { notificationSent: n.notificationSent } : {}),
  }));
}
