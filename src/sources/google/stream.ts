import { callApi } from '../../core/api-call/call.ts';
import { backoffDelay } from '../../core/backoff.ts';
import { Committer } from '../../core/committer.ts';
import type { AuditRecord } from '../../core/record.ts';
import type { Stream, StreamContext, StreamHealth, StreamState } from '../../core/source.ts';
import { RETRY_DEFAULTS } from '../../core/retry-defaults.ts';
import { formatDuration } from '../../core/time.ts';
import type { ActivitiesPage, ListActivitiesQuery } from './client/list-activities.ts';
import { GMAIL_MAX_WINDOW_MS, type GoogleApplicationConfig, type GoogleCustomerConfig, RETENTION_MS, repollAgesOf } from './config.ts';
import { type Identity, judgeAnswer } from './errors.ts';
import { googleHealth } from './health.ts';
import { DEFAULT_PAGE_LIMITS, judgePage, newPageGuard, type PageLimits, splitWindow } from './pagination.ts';
import { SeenSet } from './seen-set.ts';
import { type GoogleStreamState, restoreGoogleState } from './state.ts';
import {
  advance,
  BOUNDARY_OVERLAP_MS,
  buildSchedule,
  clampToFloor,
  forgetBefore,
  initialCursors,
  migrateCursors,
  nextDueAt,
  nextWindow,
  type Schedule,
  type Window,
} from './windows.ts';

/** Start times this close to the 180-day retention are moved up: the API answers them with a misleading error. */
const RETENTION_MARGIN_MS = 3_600_000;
/**
 * Reads of one window that paging guards cut short before the stream moves on without it. Guard
 * stops come from field bugs that usually pass (a token repeated once, a run of empty pages), so
 * the window is read again from its first page a few times; after that it is left to later stages.
 */
const MAX_INCOMPLETE_READS = 3;
const MAX_RESULTS = 1000;

/** Everything a stream needs that is shared by the customer's applications (one client, one key). */
export interface CustomerApi {
  list(query: ListActivitiesQuery, signal: AbortSignal): Promise<ActivitiesPage>;
  /** Drops the cached access token (after a 401), so the next call gets a new one. */
  renewToken?(): void;
  clientEmail: string;
  clientId: string;
}

export interface GoogleCustomerHandle {
  customer: GoogleCustomerConfig;
  /** Reads the key and builds the client on first use; throws StreamConfigError when the key is unusable. */
  open(): CustomerApi;
}

export interface GoogleStreamDeps {
  handle: GoogleCustomerHandle;
  app: GoogleApplicationConfig;
  projectId: string;
  resource: Record<string, string>;
  /** The mapping: one record per event of the activity, with a uid stable across re-polls. */
  map(activity: unknown, observedUnixMs: number): AuditRecord[];
  pageLimits?: PageLimits;
}

/** One customer × application: reads windows of event time again at growing ages, exports what is new. */
export class GoogleStream implements Stream {
  readonly id: string;
  readonly budgetKey: string;
  readonly requestsPerMinute: number;
  readonly resource: Record<string, string>;
  readonly #deps: GoogleStreamDeps;
  /** The latest run, for `health()`. */
  #run: StreamRun | undefined;

  constructor(deps: GoogleStreamDeps) {
    this.#deps = deps;
    const { customer } = deps.handle;
    this.id = `google/${customer.customerId}/${deps.app.name}`;
    this.budgetKey = `google/${deps.projectId}`;
    this.requestsPerMinute = customer.requestsPerMinute;
    this.resource = deps.resource;
  }

  async run(ctx: StreamContext): Promise<void> {
    const opened = this.#deps.handle.open();
    const run = new StreamRun(this.#deps, ctx, opened, await ctx.state.load());
    this.#run = run;
    await run.loop();
  }

  health(): StreamHealth {
    return this.#run ? googleHealth({ cursors: this.#run.cursors }) : {};
  }
}

export function scheduleOf(customer: GoogleCustomerConfig, app: GoogleApplicationConfig): Schedule {
  const maxSpan = app.name === 'gmail' ? Math.min(customer.backfillChunk, GMAIL_MAX_WINDOW_MS) : customer.backfillChunk;
  return buildSchedule(repollAgesOf(customer, app), customer.pollInterval, maxSpan);
}

/** The state of one `run()`: rebuilt from the durable state after every restart. */
class StreamRun {
  readonly #deps: GoogleStreamDeps;
  readonly #ctx: StreamContext;
  readonly #api: CustomerApi;
  readonly #schedule: Schedule;
  readonly #who: Identity;
  readonly #committer: Committer<GoogleStreamState>;
  readonly #seen: SeenSet;
  #cursors: number[];
  /** The window whose reads the paging guards cut short, and how many times in a row. */
  #incomplete: { stage: number; startMs: number; reads: number } | undefined;

  constructor(deps: GoogleStreamDeps, ctx: StreamContext, api: CustomerApi, saved: unknown) {
    this.#deps = deps;
    this.#ctx = ctx;
    this.#api = api;
    const { customer } = deps.handle;
    this.#schedule = scheduleOf(customer, deps.app);
    this.#who = {
      customerId: customer.customerId,
      subject: customer.subject,
      clientEmail: api.clientEmail,
      clientId: api.clientId,
      projectId: deps.projectId,
      application: deps.app.name,
      userKey: deps.app.userKey,
    };
    const state = restoreGoogleState(saved);
    const now = ctx.now();
    this.#seen = SeenSet.fromJSON(state?.seen, customer.seenSetMax);
    this.#cursors = state
      ? migrateCursors(state.ages, state.cursors, this.#schedule)
      : initialCursors(this.#schedule, now, customer.initialLookback, this.#floor(now));
    if (!state) ctx.log.info({ from: new Date(this.#cursors[0] as number).toISOString() }, 'new stream: starting from the initial look-back');
    this.#committer = new Committer(ctx.state as StreamState<GoogleStreamState>, () => this.#snapshot());
  }

  get cursors(): readonly number[] {
    return this.#cursors;
  }

  #floor(now: number): number {
    return now - RETENTION_MS + RETENTION_MARGIN_MS;
  }

  #snapshot(): GoogleStreamState {
    return { v: 1, ages: this.#schedule.ages, cursors: [...this.#cursors], seen: this.#seen.toJSON() };
  }

  async loop(): Promise<void> {
    const ctx = this.#ctx;
    while (!ctx.signal.aborted) {
      const now = ctx.now();
      this.#clampToRetention(now);
      const window = nextWindow(this.#schedule, this.#cursors, now);
      if (!window) {
        await this.#committer.flush();
        ctx.metrics.cursorAgeMs(now - (this.#cursors[0] as number));
        const due = nextDueAt(this.#schedule, this.#cursors);
        await ctx.sleep(Number.isFinite(due) ? Math.max(10, due - now) : this.#deps.handle.customer.pollInterval);
        continue;
      }
      const complete = await this.#readRange(window, window.startMs, window.endMs);
      if (ctx.signal.aborted) break;
      if (!complete && (await this.#readAgain(window))) continue;
      // An incomplete read counts for its own stage only: every later stage reads the window again.
      this.#cursors = advance(this.#schedule, this.#cursors, window, complete ? now : undefined);
      this.#seen.forgetBefore(forgetBefore(this.#cursors));
      this.#committer.request();
      await this.#committer.flush();
    }
    await this.#committer.flush();
  }

  /**
   * After a read the paging guards cut short: true (after a pause) while the window should be read
   * again; false once it was tried MAX_INCOMPLETE_READS times and the stream moves on without it.
   */
  async #readAgain(window: Window): Promise<boolean> {
    const same = this.#incomplete?.stage === window.stage && this.#incomplete.startMs === window.startMs;
    const reads = (same ? (this.#incomplete?.reads ?? 0) : 0) + 1;
    this.#incomplete = { stage: window.stage, startMs: window.startMs, reads };
    const last = window.stage === this.#schedule.ages.length - 1;
    if (reads < MAX_INCOMPLETE_READS) {
      // Like a transient failure: guard stops come from field bugs that usually pass.
      const delay = backoffDelay(RETRY_DEFAULTS.transientBackoff, reads - 1);
      this.#ctx.log.warn({ window: describe(window), reads, retryIn: formatDuration(delay) }, 'window read incompletely (pagination guard); reading it again');
      await this.#ctx.sleep(delay);
      return true;
    }
    this.#incomplete = undefined;
    this.#ctx.log.error(
      { window: describe(window), reads },
      last
        ? 'window read incompletely again (pagination guard) at the last re-poll: events only in its unread pages may be missing'
        : 'window read incompletely again (pagination guard): moving on; the later re-polls read it again',
    );
    return false;
  }

  #clampToRetention(now: number): void {
    const { cursors, losses } = clampToFloor(this.#cursors, this.#floor(now));
    if (losses.length === 0) return;
    this.#cursors = cursors;
    for (const loss of losses) {
      const range = { from: new Date(loss.fromMs).toISOString(), to: new Date(loss.toMs).toISOString() };
      if (loss.stage === 0) {
        this.#ctx.log.error(range, 'events LOST: this range fell out of the 180-day retention before it was read');
      } else if (loss.stage === this.#schedule.ages.length - 1) {
        this.#ctx.log.warn(
          { ...range, repollAge: formatDuration(this.#schedule.ages[loss.stage] as number) },
          'late events may be lost: re-polls of this range fell out of the 180-day retention',
        );
      }
    }
    this.#committer.request();
  }

  /** Reads [startMs, endMs) page by page; a window whose paging was stopped is read again in halves. */
  async #readRange(window: Window, startMs: number, endMs: number): Promise<boolean> {
    const ctx = this.#ctx;
    const guard = newPageGuard(this.#deps.pageLimits ?? DEFAULT_PAGE_LIMITS);
    let pageToken: string | undefined;
    for (;;) {
      if (ctx.signal.aborted) return false;
      const verdict = await ctx.withFetchSlot(async () => {
        const page = await this.#fetchPage(startMs, endMs, pageToken);
        ctx.progress.count('listed', startMs);
        ctx.progress.count('fetched', startMs);
        await this.#export(page.items, startMs);
        ctx.progress.count('exported', startMs);
        return judgePage(guard, { items: page.items.length, nextPageToken: page.nextPageToken });
      });
      if (verdict.next === 'done') return true;
      if (verdict.next === 'page') {
        pageToken = verdict.token;
        continue;
      }
      const halves = splitWindow(startMs, endMs);
      ctx.log.warn({ window: describe(window), range: describe({ startMs, endMs }), reason: verdict.reason, split: halves !== undefined }, 'paging stopped by a guard');
      if (!halves) return false;
      let complete = true;
      for (const [s, e] of halves) complete = (await this.#readRange(window, s, e)) && complete;
      return complete;
    }
  }

  async #fetchPage(startMs: number, endMs: number, pageToken: string | undefined): Promise<ActivitiesPage> {
    const { app, handle } = this.#deps;
    const ctx = this.#ctx;
    const query: ListActivitiesQuery = {
      customerId: handle.customer.customerId,
      applicationName: app.name,
      userKey: app.userKey,
      startTime: new Date(Math.max(startMs - BOUNDARY_OVERLAP_MS, this.#floor(ctx.now()))).toISOString(),
      endTime: new Date(endMs).toISOString(),
      maxResults: MAX_RESULTS,
      pageToken,
      eventName: app.eventName,
      filters: app.filters,
      orgUnitID: app.orgUnitID,
      actorIpAddress: app.actorIpAddress,
      groupIdFilter: app.groupIdFilter,
    };
    // Through the core's API-call policy: quota holds the project's budget, a 401 renews the token,
    // a page that keeps failing goes back to the runner, which restarts the stream from its cursors.
    const { value } = await callApi(ctx, {
      operation: 'activities.list',
      attempt: () => this.#api.list(query, ctx.signal),
      judge: (answer, now) => judgeAnswer(answer, this.#who, now),
      renewAuth: () => this.#api.renewToken?.(),
    });
    return value;
  }

  /** Maps a page, drops what was already delivered, delivers the rest, then remembers it. */
  async #export(items: unknown[], atMs: number): Promise<void> {
    const ctx = this.#ctx;
    const observed = ctx.now();
    const fresh: AuditRecord[] = [];
    const inPage = new Set<string>();
    const unmappable: unknown[] = [];
    const reasons: string[] = [];
    let repeated = 0;
    for (const activity of items) {
      let records: AuditRecord[];
      try {
        records = this.#deps.map(activity, observed);
      } catch (err) {
        unmappable.push(activity);
        reasons.push((err as Error).message);
        continue;
      }
      for (const record of records) {
        if (inPage.has(record.uid) || this.#seen.has(record.uid, record.timeUnixMs)) {
          repeated++;
          continue;
        }
        inPage.add(record.uid);
        fresh.push(record);
      }
    }
    if (unmappable.length > 0) await ctx.setAside(`unmappable ${this.#deps.app.name} activity: ${reasons[0]}`, unmappable);
    if (repeated > 0) ctx.metrics.recordsDeduplicated(repeated);
    if (fresh.length === 0) return;
    const report = await ctx.deliver(fresh);
    ctx.progress.count('records', atMs, report.accepted);
    let forgotten = 0;
    for (const record of fresh) forgotten += this.#seen.add(record.uid, record.timeUnixMs);
    if (forgotten > 0) {
      ctx.log.warn(
        { seenSetMax: this.#seen.maxEntries, forgotten },
        'seen-set full: forgot the oldest event ids; re-polls of those may export duplicates (raise seenSetMax)',
      );
    }
    this.#committer.request();
  }
}

function describe(w: { startMs: number; endMs: number; stage?: number }): string {
  const range = `${new Date(w.startMs).toISOString()}..${new Date(w.endMs).toISOString()}`;
  return w.stage === undefined ? range : `stage ${w.stage} ${range}`;
}
