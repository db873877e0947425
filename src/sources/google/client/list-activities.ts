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
  const data = res.data as unknown;
  // The library hands over the text when a 200's body is not JSON (an HTML page from a proxy, a
  // truncated or garbled answer). Reading that as an empty last page would skip the window: fail.
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new MalformedPageError(describeBody(data));
  const page = data as admin_reports_v1.Schema$Activities;
  if (page.items != null && !Array.isArray(page.items)) throw new MalformedPageError('"items" is not an array');
  return { items: (page.items ?? []) as unknown[], nextPageToken: page.nextPageToken ?? undefined };
}

/** A 200 whose body is not an activities page: retried like a network error. */
export class MalformedPageError extends Error {
  override readonly name = 'MalformedPageError';
  constructor(detail: string) {
    super(`activities.list answered 200 with a body that is not an activities page: ${detail}`);
  }
}

function describeBody(data: unknown): string {
  if (typeof data === 'string') return `starts with ${JSON.stringify(data.slice(0, 40))}`;
  return `a JSON ${data === null ? 'null' : Array.isArray(data) ? 'array' : typeof data}`;
}
