import type { RawResponse } from '../http.ts';
import type { ListedBlob } from '../state.ts';
import { formatApiTime, type Window } from '../windows.ts';
import { authorizedRequest, feedUrl, type TenantClient, withPublisher } from './tenant-client.ts';

/** The first page of GET subscriptions/content for a window. */
export function firstPageUrl(client: TenantClient, contentType: string, window: Window): string {
  return feedUrl(client, 'subscriptions/content', { contentType, startTime: formatApiTime(window.start), endTime: formatApiTime(window.end) });
}

/** GET one page (first or next) of a content listing. */
export function listContentPage(client: TenantClient, token: string, url: string, signal?: AbortSignal): Promise<RawResponse> {
  return authorizedRequest(client, token, 'GET', withPublisher(client, url), signal);
}

/** The items of a listing page; throws on a body that is not the documented array. */
export function parseContentPage(body: string): ListedBlob[] {
  const parsed = JSON.parse(body) as unknown;
  if (!Array.isArray(parsed)) throw new Error('content listing is not a JSON array');
  for (const item of parsed) {
    if (!item || typeof item.contentId !== 'string' || typeof item.contentUri !== 'string' || typeof item.contentCreated !== 'string') {
      throw new Error('content listing item lacks contentId/contentUri/contentCreated');
    }
  }
  return parsed.map((i) => ({
    contentId: i.contentId,
    contentUri: i.contentUri,
    contentCreated: i.contentCreated,
    contentExpiration: typeof i.contentExpiration === 'string' ? i.contentExpiration : i.contentCreated,
  }));
}

/** `NextPageUri` (the guide also says `NextPageUrl`), any case; undici lower-cases header names already. */
export function nextPageUri(headers: Record<string, string>): string | undefined {
  const value = headers['nextpageuri'] ?? headers['nextpageurl'];
  return value && value.trim() !== '' ? value.trim() : undefined;
}
