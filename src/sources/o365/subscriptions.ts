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

/**
 * Starts a content type's missing or disabled subscription when the rule allows, and remembers the
 * attempt once the API answered, not before: a start that never reached it (the stream was stopped
 * or handed to another replica while waiting for the budget or a token, or the process died) must
 * not make the next run wait 15 minutes with the content type not collected. A start that reached
 * the API and went unrecorded costs nothing: the next run lists the subscription enabled, or calls
 * start again and hears how long to wait. The stream and `doctor --fix` both start subscriptions
 * through here.
 */
export async function startWhenAllowed<T>(
  lastStartAttempt: number | undefined,
  now: number,
  start: () => Promise<T>,
  record: (attemptAt: number) => Promise<void>,
): Promise<{ kind: 'wait'; ms: number } | { kind: 'sent'; answer: T }> {
  const action = subscriptionAction(false, lastStartAttempt, now);
  if (action.kind === 'wait') return action;
  const answer = await start();
  await record(now);
  return { kind: 'sent', answer };
}
