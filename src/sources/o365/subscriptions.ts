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
 * Starts a content type's missing or disabled subscription when the rule allows. The attempt is
 * recorded durably first: a crash loop, or `doctor --fix` next to a daemon, must not call start more
 * than once per 15 minutes. The stream and `doctor --fix` both start subscriptions through here.
 */
export async function startWhenAllowed<T>(
  lastStartAttempt: number | undefined,
  now: number,
  record: (attemptAt: number) => Promise<void>,
  start: () => Promise<T>,
): Promise<{ kind: 'wait'; ms: number } | { kind: 'sent'; answer: T }> {
  const action = subscriptionAction(false, lastStartAttempt, now);
  if (action.kind === 'wait') return action;
  await record(now);
  return { kind: 'sent', answer: await start() };
}
