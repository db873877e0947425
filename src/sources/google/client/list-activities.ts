import { admin, type admin_reports_v1 } from '@googleapis/admin';
import type { JWT } from 'google-auth-library';

/**
 * `activities.list` of the Reports API through `@googleapis/admin`: HTTP only, no decisions.
 * The library's own retries are off (`retry: false`): the stream decides, with the shared budget.
 */

export interface ListActivitiesQuery {
  customerId: string;
  applicationName: string;
  userKey: string;
  /** RFC 3339 */
  startTime: string;
  /** RFC 3339 */
  endTime: string;
  maxResults: number;
  pageToken?: string;
  eventName?: string;
  filters?: string;
  orgUnitID?: string;
  actorIpAddress?: string;
  groupIdFilter?: string;
}

export interface ActivitiesPage {
  items: unknown[];
  nextPageToken?: string;
}

export type ReportsClient = admin_reports_v1.Admin;

export function createReportsClient(auth: JWT, rootUrl?: string): ReportsClient {
  return admin({ version: 'reports_v1', auth, ...(rootUrl ? { rootUrl: rootUrl.endsWith('/') ? rootUrl : `${rootUrl}/` } : {}) });
}

const REQUEST_TIMEOUT_MS = 120_000;

export async function listActivities(client: ReportsClient, query: ListActivitiesQuery, signal?: AbortSignal): Promise<ActivitiesPage> {
  const params: admin_reports_v1.Params$Resource$Activities$List = {};
  for (const [name, value] of Object.entries(query)) if (value !== undefined) (params as Record<string, unknown>)[name] = value;
  const res = await client.activities.list(params, { retry: false, signal, timeout: REQUEST_TIMEOUT_MS });
  const data = res.data;
  return { items: Array.isArray(data.items) ? (data.items as unknown[]) : [], nextPageToken: data.nextPageToken ?? undefined };
}
