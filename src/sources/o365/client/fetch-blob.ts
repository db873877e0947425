import { JsonArrayError, readJsonArray } from '../../../core/json-array-stream.ts';
import type { RawResponse } from '../http.ts';
import { authorizedRequest, type TenantClient, withPublisher } from './tenant-client.ts';

/**
 * GET {contentUri}: the blob's records as a JSON array. A 2xx body comes back as `stream`, unread,
 * for `readBlob`; any other answer is read whole for the error classification.
 */
export function fetchBlob(client: TenantClient, token: string, contentUri: string, signal?: AbortSignal): Promise<RawResponse> {
  return authorizedRequest(client, token, 'GET', withPublisher(client, contentUri), signal, true);
}

/**
 * The records of a fetched blob in batches of at most `batchSize`, read from the socket as they are
 * handled. Throws a `JsonArrayError` (so the blob is retried, then set aside) when the body is not one
 * well-formed JSON array, naming what was wrong and after how many records.
 */
export async function* readBlob(res: RawResponse, batchSize: number): AsyncGenerator<unknown[]> {
  try {
    yield* readJsonArray(res.stream ?? [res.body], batchSize);
  } catch (err) {
    // Said once here, so the ledger's lastError and the log read "blob body ..." whatever went wrong.
    if (err instanceof JsonArrayError) throw new JsonArrayError(`blob body is not a valid JSON array: ${err.message}`);
    throw err;
  }
}
