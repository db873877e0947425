import type { StreamContext } from '../../core/source.ts';
import { formatDuration } from '../../core/time.ts';

/** Beyond this, local clock skew is reported and windows follow Microsoft's clock. */
export const SKEW_TOLERANCE_MS = 2 * 60_000;

/** Tracks the offset between Microsoft's clock (Date header) and ours, per tenant. */
export class ClockSkew {
  #skewMs = 0;
  #reported = false;
  observe(serverMs: number | undefined, localMs: number, ctx: StreamContext): void {
    if (serverMs === undefined) return;
    // Date has 1-second resolution: ignore small differences.
    const skew = serverMs - localMs;
    this.#skewMs = Math.abs(skew) > SKEW_TOLERANCE_MS ? skew : 0;
    if (this.#skewMs !== 0 && !this.#reported) {
      this.#reported = true;
      ctx.log.error(
        { skew: formatDuration(-skew), fix: 'synchronise the host clock (NTP)' },
        `local clock is ${formatDuration(Math.abs(skew))} ${skew < 0 ? 'ahead of' : 'behind'} Microsoft's; listing windows follow Microsoft's clock meanwhile`,
      );
    }
  }
  get skewMs(): number {
    return this.#skewMs;
  }
}
