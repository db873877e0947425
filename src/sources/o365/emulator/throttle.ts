import type { ContentType } from '../config.ts';
import { type ApiError, apiErrors, NO_PUBLISHER } from './errors.ts';

/**
 * Request budgets (docs/api-notes.md#o365-throttling). A call with `PublisherIdentifier` counts
 * against that publisher's pool; a call without one lands in a tiny pool shared by "everyone", so a
 * client that forgets it on blob GETs gets AF429 naming `PublisherId=00000000-...` quickly.
 */
export class PublisherPools {
  readonly #perMinute: number;
  readonly #sharedPerMinute: number;
  #minute = -1;
  readonly #counts = new Map<string, number>();

  constructor(perMinute: number, sharedPerMinute: number) {
    this.#perMinute = perMinute;
    this.#sharedPerMinute = sharedPerMinute;
  }

  /** Counts the call; returns the AF429 to answer if the pool is spent this minute. */
  take(publisherId: string | undefined, method: string, nowMs: number): ApiError | undefined {
    const minute = Math.floor(nowMs / 60_000);
    if (minute !== this.#minute) {
      this.#minute = minute;
      this.#counts.clear();
    }
    const key = publisherId ?? NO_PUBLISHER;
    const used = (this.#counts.get(key) ?? 0) + 1;
    this.#counts.set(key, used);
    const limit = publisherId ? this.#perMinute : this.#sharedPerMinute;
    return used > limit ? apiErrors.tooManyRequests(method, key, 403) : undefined;
  }
}

/**
 * `subscriptions/start` accepts about one call per 15 minutes per content type; the field sees a 429
 * saying "retry after 14m 56s". Measured from the last call that was let through.
 */
export class StartThrottle {
  readonly #intervalMs: number;
  readonly #last = new Map<ContentType, number>();

  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
  }

  check(contentType: ContentType, publisherId: string, nowMs: number): ApiError | undefined {
    const last = this.#last.get(contentType);
    if (last !== undefined && nowMs - last < this.#intervalMs) {
      const waitS = Math.ceil((this.#intervalMs - (nowMs - last)) / 1000);
      return apiErrors.tooManyRequests('StartSubscription', publisherId, 429, {}, `. Subscription start is limited for ${contentType}: retry after ${Math.floor(waitS / 60)}m ${waitS % 60}s`);
    }
    this.#last.set(contentType, nowMs);
    return undefined;
  }
}
