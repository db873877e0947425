/**
 * When to call subscriptions/start. The API throttles start to about once per 15 minutes per content
 * type, and existing connectors that call it on every poll get throttled, so we remember the last
 * attempt (in state, across restarts) and wait. Pure.
 */
export const START_INTERVAL_MS = 15 * 60_000;

export type SubscriptionAction = { kind: 'none' } | { kind: 'start' } | { kind: 'wait'; ms: number };

export function subscriptionAction(enabled: boolean, lastStartAttempt: number | undefined, now: number): SubscriptionAction {
  if (enabled) return { kind: 'none' };
  if (lastStartAttempt === undefined || now - lastStartAttempt >= START_INTERVAL_MS) return { kind: 'start' };
  return { kind: 'wait', ms: lastStartAttempt + START_INTERVAL_MS - now };
}
