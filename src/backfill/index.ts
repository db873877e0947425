import type { LoadedConfig } from '../config/load.ts';
import { sleep } from '../core/time.ts';
import { startDaemon } from '../daemon.ts';
import type { Logger } from '../core/log.ts';
import type { StreamPosition } from '../sources/entry.ts';
import { backfillConfig, isDone, positionOf, type ProgressSnapshot, snapshot, type StreamProgressInput } from './plan.ts';

export interface BackfillOptions {
  sinceMs: number;
  log: Logger;
  /** Abort (SIGINT/SIGTERM): stop cleanly; committed progress stays, a re-run continues from it. */
  signal?: AbortSignal;
  /** Called on every poll with the latest snapshot, and once more with `final` at the end. */
  onProgress?: (s: ProgressSnapshot, final: boolean) => void;
  /** How often state is read for progress. Default 500 ms. */
  pollMs?: number;
  now?: () => number;
}

export interface BackfillResult {
  outcome: 'caught-up' | 'interrupted';
  startedAt: number;
  snapshot: ProgressSnapshot;
  notes: string[];
  /** Streams with state before this backfill: continued from their cursor (`--since` does not move a cursor back). */
  continued: { id: string; from: number }[];
  /** Streams that stopped on a configuration problem, with the fix. */
  failed: { id: string; error: string; hint?: string }[];
}

/**
 * Runs the daemon (`startDaemon`: same streams, state, budgets and export path as `run`) with the
 * initial look-back set to `sinceMs`, until every stream has committed everything up to the moment
 * the backfill started, then stops it cleanly. See plan.ts for why.
 */
export async function runBackfill(loaded: LoadedConfig, options: BackfillOptions): Promise<BackfillResult> {
  const now = options.now ?? Date.now;
  const plan = backfillConfig(loaded.config, options.sinceMs);
  const startedAt = now();
  const daemon = await startDaemon(plan.config, options.log);
  const ids = daemon.runner.status().map((s) => s.id);
  const kindOf = (id: string) => id.slice(0, id.indexOf('/'));
  const lookback = (kind: string) => plan.lookbackMs[kind] ?? 0;

  const positions = new Map<string, StreamPosition>();
  const from = new Map<string, number>();
  const continued: BackfillResult['continued'] = [];
  const read = async (id: string) => positionOf(kindOf(id), await daemon.store.get(id), startedAt);
  for (const id of ids) {
    const p = await read(id);
    positions.set(id, p);
    const origin = startedAt - lookback(kindOf(id));
    if (p.position !== undefined && p.position > origin) continued.push({ id, from: p.position });
    from.set(id, p.position !== undefined ? Math.min(p.position, startedAt) : origin);
  }

  const take = (): ProgressSnapshot => {
    const byId = new Map(daemon.runner.status().map((s) => [s.id, s]));
    const inputs: StreamProgressInput[] = ids.map((id) => ({
      id,
      kind: kindOf(id),
      from: from.get(id)!,
      position: positions.get(id)!,
      failed: byId.get(id)?.phase === 'config-error',
      exported: byId.get(id)?.exported ?? 0,
    }));
    return snapshot(inputs, startedAt);
  };

  let outcome: BackfillResult['outcome'] = 'caught-up';
  let last = take();
  let failed: BackfillResult['failed'] = [];
  try {
    for (;;) {
      for (const id of ids) if (!positions.get(id)!.caughtUp) positions.set(id, await read(id));
      last = take();
      if (isDone(last)) break;
      if (options.signal?.aborted) {
        outcome = 'interrupted';
        break;
      }
      options.onProgress?.(last, false);
      await sleep(options.pollMs ?? 500, options.signal);
    }
  } finally {
    failed = daemon.runner
      .status()
      .filter((s) => s.phase === 'config-error')
      .map((s) => ({ id: s.id, error: s.lastError ?? 'configuration problem', ...(s.hint ? { hint: s.hint } : {}) }));
    await daemon.stop(plan.config.shutdownTimeout);
  }
  options.onProgress?.(last, true);
  return { outcome, startedAt, snapshot: last, notes: plan.notes, continued, failed };
}
