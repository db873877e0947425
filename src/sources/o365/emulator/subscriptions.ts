import { CONTENT_TYPES, type ContentType } from '../config.ts';
import { apiErrors } from './errors.ts';

/**
 * Per content type subscription state. Absent: never started (AF20022). `stopped`: the client called
 * stop; listed as disabled, content answers AF20022 and what is produced meanwhile is lost.
 * `disabledByAdmin`: listed as disabled, content answers AF20023 until start is called again.
 */
export interface Webhook {
  address: string;
  authId: string;
  expiration: string;
}

interface Subscription {
  state: 'enabled' | 'stopped' | 'disabledByAdmin';
  webhook: Webhook | null;
}

export interface SubscriptionView {
  contentType: ContentType;
  status: 'enabled' | 'disabled';
  webhook: Webhook | null;
}

export class Subscriptions {
  readonly #byType = new Map<ContentType, Subscription>();

  constructor(initial: { enabled?: readonly ContentType[]; disabledByAdmin?: readonly ContentType[] }) {
    for (const ct of initial.enabled ?? []) this.#byType.set(ct, { state: 'enabled', webhook: null });
    for (const ct of initial.disabledByAdmin ?? []) this.#byType.set(ct, { state: 'disabledByAdmin', webhook: null });
  }

  list(): SubscriptionView[] {
    return CONTENT_TYPES.filter((ct) => this.#byType.has(ct)).map((ct) => this.view(ct));
  }

  view(contentType: ContentType): SubscriptionView {
    const s = this.#byType.get(contentType);
    return { contentType, status: s?.state === 'enabled' ? 'enabled' : 'disabled', webhook: s?.webhook ?? null };
  }

  isEnabled(contentType: ContentType): boolean {
    return this.#byType.get(contentType)?.state === 'enabled';
  }

  /** Content is produced unless the client stopped the subscription (that period is lost). */
  isStopped(contentType: ContentType): boolean {
    return this.#byType.get(contentType)?.state === 'stopped';
  }

  /** Throws AF20024 if already enabled; otherwise enables (re-enables an admin-disabled one too). */
  start(contentType: ContentType, webhook: Webhook | null): SubscriptionView {
    if (this.isEnabled(contentType)) throw apiErrors.alreadyEnabled();
    this.#byType.set(contentType, { state: 'enabled', webhook });
    return this.view(contentType);
  }

  stop(contentType: ContentType): void {
    const s = this.#byType.get(contentType);
    if (s?.state !== 'enabled') throw apiErrors.noSubscription();
    this.#byType.set(contentType, { state: 'stopped', webhook: null });
  }

  /** What listing content requires: AF20022 when never started or stopped, AF20023 when admin-disabled. */
  requireEnabled(contentType: ContentType): void {
    const s = this.#byType.get(contentType);
    if (!s || s.state === 'stopped') throw apiErrors.noSubscription();
    if (s.state === 'disabledByAdmin') throw apiErrors.subscriptionDisabled();
  }
}
