import type { RawResponse } from '../http.ts';
import { authorizedRequest, type TenantClient, withPublisher } from './tenant-client.ts';

/** GET {contentUri}: the blob's records as a JSON array. */
export function fetchBlob(client: TenantClient, token: string, contentUri: string, signal?: AbortSignal): Promise<RawResponse> {
  return authorizedRequest(client, token, 'GET', withPublisher(client, contentUri), signal);
}

/** The records of a blob; throws (so the blob is retried, then set aside) when the body is not a JSON array. */
export function parseBlob(body: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new Error(`blob body is not JSON (starts with ${JSON.stringify(body.slice(0, 40))})`);
  }
  if (!Array.isArray(parsed)) throw new Error('blob body is JSON but not an array of records');
  return parsed;
}
