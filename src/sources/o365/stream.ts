import { Committer } from '../../core/committer.ts';
import type { RecentIdsView } from '../../core/recent-ids.ts';
import type { AuditRecord } from '../../core/record.ts';
import type { SiemOptions } from '../shared/mapping/siem.ts';
import type { Stream, StreamContext, StreamHealth, StreamState } from '../../core/source.ts';
import { JsonArrayError } from '../../core/json-array-stream.ts';
import { formatDuration } from '../../core/time.ts';
import { type ApiCallContext, type CallResult, callApi, TransientApiError } from '../../core/api-call/call.ts';
import type { ClockSkew } from './clock-skew.ts';
import { fetchBlob, readBlob } from './client/fetch-blob.ts';
import { firstPageUrl, listContentPage, nextPageUri, parseContentPage } from './client/list-content.ts';
import { listSubscriptions, parseSubscriptions } from './client/list-subscriptions.ts';
import { startSubscription } from './client/start-subscription.ts';
import type { TenantClient } from './client/tenant-client.ts';
import type { ContentType, O365TenantConfig } from './config.ts';
import { judgeApiAnswer, type O365Meaning, serverTime } from './errors.ts';
import type { RawResponse } from './http.ts';
import {
  type BlobEntry,
  committedWatermark,
  dueBlobs,
  type ListedBlob,
  markDelivered,
  markFailed,
  markLost,
  mergeListing,
  type O365StreamState,
  pruneDone,
  recordLoss,
  restoreState,
} from './state.ts';
import { o365Health } from './health.ts';
import { mapO365Record, o365Resource } from './mapping/index.ts';
import { PageGuard } from './pagination.ts';
import { startWhenAllowed } from './subscriptions.ts';
import { planListing, type Window } from './windows.ts';

type O365CallResult = CallResult<RawResponse, O365Meaning>;

/** The connection broke while a blob's body was being read (reset, body timeout): worth a retry. */
function isBodyReadError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && (code.startsWith('UND_ERR_') || code.startsWith('E'));
}

/** Listing is a higher priority than blob GETs: without it nothing new is found. */
const LIST_PRIORITY = 1;

export interface O365StreamDeps {
  tenant: O365TenantConfig;
  contentType: ContentType;
  client: TenantClient;
  skew: ClockSkew;
  siem: SiemOptions;
  /** Record ids this stream delivered recently (a view of the source's shared, bounded memory). */
  recent: RecentIdsView;
}

/** The stream id, the key of its state: `o365/<tenant>/<content type>`. */
export function o365StreamId(tenantId: string, contentType: ContentType): string {
  return `o365/${tenantId}/${contentType}`;
}

/** One tenant × content type: list content blobs by window, fetch each once, export, then commit. */
export class O365Stream implements Stream {
  readonly id: string;
  readonly budgetKey: string;
  readonly requestsPerMinute: number;
  readonly resource: Record<string, string>;
  readonly #deps: O365StreamDeps;
  /** The latest run, for `health()`. */
  #run: StreamRun | undefined;

  constructor(deps: O365StreamDeps) {
    this.#deps = deps;
    this.id = o365StreamId(deps.tenant.tenantId, deps.contentType);
    this.budgetKey = `o365/${deps.tenant.tenantId}`;
    this.requestsPerMinute = deps.tenant.requestsPerMinute;
    this.resource = o365Resource(deps.tenant.tenantId);
  }

  async run(ctx: StreamContext): Promise<void> {
    const run = new StreamRun(this.#deps, ctx, restoreState(await ctx.state.load()), this.#deps.recent);
    this.#run = run;
    await run.loop();
  }

  health(): StreamHealth {
    return this.#run ? o365Health(this.#run.state, this.#run.subscribed) : {};
  }
}

/** The state of one `run()`: rebuilt from the durable state after every restart. */
class StreamRun {
  readonly #deps: O365StreamDeps;
  readonly #ctx: StreamContext;
  readonly #recent: RecentIdsView;
  readonly #committer: Committer<O365StreamState>;
  #state: O365StreamState;
  #subscribed = false;

  constructor(deps: O365StreamDeps, ctx: StreamContext, state: O365StreamState, recent: RecentIdsView) {
    this.#deps = deps;
    this.#ctx = ctx;
    this.#state = state;
    this.#recent = recent;
    this.#committer = new Committer(ctx.state as StreamState<O365StreamState>, () => this.#state);
  }

  async loop(): Promise<void> {
    const { ctx } = this;
    while (!ctx.signal.aborted) {
      if (!this.#subscribed) this.#subscribed = await this.#ensureSubscription();
      if (this.#subscribed) {
        await this.#list();
        await this.#drain();
      }
      await this.#committer.flush();
      const watermark = committedWatermark(this.#state);
      if (watermark !== undefined) ctx.metrics.cursorAgeMs(ctx.now() - watermark);
      await ctx.sleep(this.#deps.tenant.pollInterval);
    }
    await this.#committer.flush();
  }

  get state(): O365StreamState {
    return this.#state;
  }

  get subscribed(): boolean {
    return this.#subscribed;
  }

  private get ctx(): StreamContext {
    return this.#ctx;
  }

  #apiNow(): number {
    return this.#ctx.now() + this.#deps.skew.skewMs;
  }

  /** One operation through the core's API-call policy; every answer's Date header updates the clock skew. */
  #call(operation: string, send: (token: string) => Promise<RawResponse>, priority = 0, ctx: ApiCallContext = this.#ctx): Promise<O365CallResult> {
    const { client, skew } = this.#deps;
    return callApi(ctx, {
      operation,
      priority,
      authorize: () => client.tokens.token(),
      attempt: send,
      renewAuth: () => client.tokens.invalidate(),
      judge: (answer, now) => {
        if ('value' in answer) skew.observe(serverTime(answer.value), now, this.#ctx);
        return judgeApiAnswer(answer, now);
      },
    });
  }

  /** Lists subscriptions; starts ours when it is missing or disabled (at most once per 15 minutes). */
  async #ensureSubscription(): Promise<boolean> {
    const { client, contentType } = this.#deps;
    const listed = await this.#call('subscriptions/list', (t) => listSubscriptions(client, t, this.#ctx.signal), LIST_PRIORITY);
    if (!listed.ok) throw new TransientApiError(`subscriptions/list: ${listed.verdict.meaning} ${listed.verdict.code}`);
    const mine = parseSubscriptions(listed.value.body).find((s) => s.contentType === contentType);
    return this.#startIfAllowed(mine?.status === 'enabled', mine ? `status ${mine.status}` : 'no subscription');
  }

  async #startIfAllowed(enabled: boolean, why: string): Promise<boolean> {
    if (enabled) return true;
    const { client, contentType } = this.#deps;
    const attempt = await startWhenAllowed(
      this.#state.lastStartAttempt,
      this.#ctx.now(),
      () => this.#call('subscriptions/start', (t) => startSubscription(client, t, contentType, this.#ctx.signal), LIST_PRIORITY),
      async (attemptAt) => {
        this.#state = { ...this.#state, lastStartAttempt: attemptAt };
        this.#committer.request();
        await this.#committer.flush();
      },
    );
    if (attempt.kind === 'wait') {
      this.#ctx.log.error({ why, nextStartIn: formatDuration(attempt.ms) }, 'subscription is not enabled: this content type is NOT being collected; will start it again when the API allows');
      return false;
    }
    const { ok, verdict } = attempt.answer;
    if (ok || verdict.meaning === 'already-enabled') {
      this.#ctx.log.info({ why }, 'subscription started');
      return true;
    }
    this.#ctx.log.error({ why, verdict }, 'could not start the subscription; will try again in 15 minutes');
    return false;
  }

  /** Lists every window the cursor and clock call for, entering new blobs in the ledger. */
  async #list(): Promise<void> {
    const tenant = this.#deps.tenant;
    const plan = planListing(this.#state.listedUntil, this.#apiNow(), {
      initialLookbackMs: tenant.initialLookback,
      relistOverlapMs: tenant.relistOverlap,
    });
    if (plan.lost) this.#reportNotListed(plan.lost);
    for (const window of plan.windows) {
      const items = await this.#listWindow(window);
      if (!items) return; // Logged; the same window is tried again next poll.
      const merged = mergeListing(this.#state, items, window);
      // New blobs are appended at the end of `pending`.
      for (const b of merged.state.pending.slice(merged.state.pending.length - merged.added)) this.#ctx.progress.count('listed', b.created);
      this.#state = pruneDone(merged.state, tenant.relistOverlap);
      if (merged.added > 0) this.#ctx.log.debug({ added: merged.added, window }, 'listed new content');
      this.#committer.request();
    }
  }

  #reportNotListed(lost: Window): void {
    const hours = (lost.end - lost.start) / 3_600_000;
    this.#ctx.log.error(
      { from: new Date(lost.start).toISOString(), to: new Date(lost.end).toISOString(), hours: Math.round(hours * 10) / 10 },
      'DATA LOST: the cursor fell behind the API\'s 7-day retention; content created in this span can no longer be listed',
    );
    this.#state = recordLoss(this.#state, { kind: 'not-listed', from: lost.start, to: lost.end, detail: `${hours.toFixed(1)} h beyond the 7-day retention`, at: this.#ctx.now() });
    this.#state = { ...this.#state, listedUntil: lost.end };
    this.#committer.request();
  }

  /** All pages of one window, or undefined if the window could not be listed completely this time. */
  async #listWindow(window: Window): Promise<ListedBlob[] | undefined> {
    const { client, contentType } = this.#deps;
    const guard = new PageGuard();
    const items: ListedBlob[] = [];
    let url = firstPageUrl(client, contentType, window);
    for (;;) {
      const pageUrl = url;
      let outcome: O365CallResult | undefined;
      try {
        outcome = await this.#call('subscriptions/content', (t) => listContentPage(client, t, pageUrl, this.#ctx.signal), LIST_PRIORITY);
      } catch (err) {
        if (err instanceof TransientApiError) {
          this.#ctx.log.warn({ err: err.message }, 'content listing failed; will retry the window next poll');
          return undefined;
        }
        throw err;
      }
      if (!outcome.ok) return this.#listingRefused(outcome.verdict, window);
      const res = outcome.value;
      try {
        items.push(...parseContentPage(res.body));
      } catch (err) {
        this.#ctx.log.error({ err: (err as Error).message, window }, 'malformed content listing page; will retry the window next poll');
        return undefined;
      }
      const next = nextPageUri(res.headers);
      this.#ctx.log.trace({ window, items: items.length, next: Boolean(next) }, 'content listing page');
      if (!next) return items;
      const problem = guard.check(next);
      if (problem) {
        this.#ctx.log.error({ problem, window }, 'content listing pagination is looping; will retry the window next poll');
        return undefined;
      }
      url = next;
    }
  }

  #listingRefused(verdict: { meaning: O365Meaning; code: string; message: string }, window: Window): undefined {
    if (verdict.meaning === 'no-subscription' || verdict.meaning === 'subscription-disabled') {
      this.#subscribed = false;
      this.#ctx.log.error({ code: verdict.code }, 'subscription is missing or disabled: this content type is NOT being collected; starting it again');
    } else if (verdict.meaning === 'bad-window') {
      this.#ctx.log.error(
        { code: verdict.code, message: verdict.message, window, skew: formatDuration(this.#deps.skew.skewMs) },
        'the API refused the listing window; this is often local clock skew: check the host clock (NTP)',
      );
    } else {
      this.#ctx.log.error({ verdict }, 'content listing refused; will retry next poll');
    }
    return undefined;
  }

  /** Fetches and exports every due blob, oldest expiry first, `blobConcurrency` at a time. */
  async #drain(): Promise<void> {
    const queue = dueBlobs(this.#state, this.#ctx.now());
    const workers = Array.from({ length: Math.min(this.#deps.tenant.blobConcurrency, queue.length) }, async () => {
      for (let blob = queue.shift(); blob && !this.#ctx.signal.aborted; blob = queue.shift()) {
        await this.#ctx.withFetchSlot(() => this.#processBlob(blob));
      }
    });
    // Every worker finishes (on a stop: delivers what it already fetched) before the commit, so a
    // blob delivered while another's fetch was cut short is still checkpointed.
    const results = await Promise.allSettled(workers);
    await this.#committer.flush();
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  async #processBlob(blob: BlobEntry): Promise<void> {
    // Until the answer arrives, a stop cancels the GET; once the body is arriving the blob is read and
    // delivered to its end (within the stop's deadline), so a stop does not leave it half-exported.
    const request = new AbortController();
    const cancel = () => request.abort();
    this.#ctx.signal.addEventListener('abort', cancel, { once: true });
    this.#ctx.deliverySignal.addEventListener('abort', cancel, { once: true });
    try {
      await this.#fetchAndDeliver(blob, request.signal, () => this.#ctx.signal.removeEventListener('abort', cancel));
    } finally {
      this.#ctx.signal.removeEventListener('abort', cancel);
      this.#ctx.deliverySignal.removeEventListener('abort', cancel);
    }
  }

  async #fetchAndDeliver(blob: BlobEntry, signal: AbortSignal, answered: () => void): Promise<void> {
    const { client } = this.#deps;
    let outcome: O365CallResult;
    try {
      outcome = await this.#call('content/get', (t) => fetchBlob(client, t, blob.uri, signal));
    } catch (err) {
      if (!(err instanceof TransientApiError)) throw err;
      return this.#failed(blob, err.message);
    }
    answered();
    if (!outcome.ok) return this.#refused(blob, outcome.verdict, outcome.value);
    const res = outcome.value;
    // Read, map and deliver one export batch at a time: a 5,000-record blob never sits in memory whole.
    // If the body breaks part-way, what was delivered stays delivered (its uids are remembered, so the
    // retry skips them while they are recent) and the blob is retried as a whole, then set aside.
    try {
      for await (const raws of readBlob(res, this.#ctx.batchRecords)) {
        const accepted = await this.#deliverBatch(await this.#map(raws, blob));
        this.#ctx.progress.count('records', blob.created, accepted);
      }
    } catch (err) {
      res.stream?.destroy();
      if (signal.aborted || !(err instanceof JsonArrayError || isBodyReadError(err))) throw err;
      return this.#failed(blob, (err as Error).message);
    }
    this.#ctx.progress.count('fetched', blob.created);
    this.#state = markDelivered(this.#state, blob.id);
    this.#ctx.progress.count('exported', blob.created);
    this.#committer.request();
  }

  /** The API answered the blob GET with something else than its records: lost if it expired, else retried. */
  #refused(blob: BlobEntry, verdict: { meaning: O365Meaning; code: string; message: string }, res: RawResponse | undefined): void {
    res?.stream?.destroy();
    if (verdict.meaning === 'content-gone' && (verdict.code === 'AF20051' || blob.expires <= this.#apiNow())) {
      this.#ctx.log.error({ blob: blob.id, created: new Date(blob.created).toISOString() }, 'DATA LOST: content blob expired before it could be fetched');
      this.#state = markLost(this.#state, blob.id, 'expired', `${verdict.code} ${verdict.message}`, this.#ctx.now());
      this.#ctx.progress.count('lost', blob.created);
      this.#committer.request();
      return;
    }
    this.#failed(blob, `${verdict.meaning} ${verdict.code}`);
  }

  /** Delivers the records not seen recently; resolves to how many the endpoint accepted. */
  async #deliverBatch(records: AuditRecord[]): Promise<number> {
    // Claim each uid before delivering, so a concurrent blob carrying the same record skips it.
    const fresh: AuditRecord[] = [];
    for (const r of records) {
      if (this.#recent.has(r.uid)) continue;
      this.#recent.add(r.uid);
      fresh.push(r);
    }
    if (fresh.length < records.length) this.#ctx.metrics.recordsDeduplicated(records.length - fresh.length);
    try {
      return (await this.#ctx.deliver(fresh)).accepted;
    } catch (err) {
      for (const r of fresh) this.#recent.delete(r.uid);
      throw err;
    }
  }

  /** Maps a blob's records; one that cannot be mapped is set aside with the reason, the rest go on. */
  async #map(raws: unknown[], blob: BlobEntry): Promise<AuditRecord[]> {
    const { tenant, contentType, siem } = this.#deps;
    const observedUnixMs = this.#ctx.now();
    const out: AuditRecord[] = [];
    const bad: unknown[] = [];
    const reasons: string[] = [];
    for (const raw of raws) {
      try {
        out.push(mapO365Record(raw, { tenantId: tenant.tenantId, contentType, observedUnixMs, siem }));
      } catch (err) {
        bad.push(raw);
        reasons.push((err as Error).message);
      }
    }
    if (bad.length > 0) await this.#ctx.setAside(`unmappable record in blob ${blob.id}: ${reasons[0]}`, bad);
    return out;
  }

  #failed(blob: BlobEntry, error: string): void {
    this.#state = markFailed(this.#state, blob.id, error, this.#ctx.now(), this.#deps.tenant.maxBlobAttempts);
    const entry = this.#state.pending.find((b) => b.id === blob.id);
    if (entry?.setAside) {
      if (entry.attempts === this.#deps.tenant.maxBlobAttempts) this.#ctx.progress.count('setAside', entry.created);
      this.#ctx.log.error(
        { blob: blob.id, attempts: entry.attempts, error, expires: new Date(entry.expires).toISOString() },
        'content blob set aside after repeated failures; retrying it hourly until it expires',
      );
    } else {
      this.#ctx.log.warn({ blob: blob.id, attempts: entry?.attempts, error }, 'content blob fetch failed; will retry');
    }
    this.#committer.request();
  }
}
