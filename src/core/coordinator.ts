import type { Fence } from './state-store.ts';

/**
 * Which streams this process runs. The runner starts a stream when `acquired` is called and stops
 * it when asked to; every commit of that stream carries the fence it was started with.
 */
export interface LeaseEvents {
  /** This replica now holds `streamId`: start it (`fence` undefined: nothing to fence, one process). */
  acquired(streamId: string, fence: Fence | undefined): void;
  /** Stop `streamId` here (lease lost, or handed to another replica); resolves once its loop ended. */
  stop(streamId: string): Promise<void>;
  /**
   * What the loop of `streamId` in this process is doing ('running', 'config-error', ...), or
   * undefined when no loop runs it here. A lease is renewed only for a stream that has a loop:
   * one whose loop is gone is handed back, so a live lease always names a replica running it.
   */
  phase(streamId: string): string | undefined;
}

export interface Coordinator {
  readonly replicaId: string;
  start(streamIds: readonly string[], events: LeaseEvents): void;
  /**
   * The store refused a commit of `streamId` made under `fence` (FencedError): that lease is gone;
   * forget it, unless the stream has been leased here again since (a newer epoch: keep that one).
   */
  lost(streamId: string, fence: Fence | undefined): void;
  /** Streams held now (for status pages and tests). */
  held(): string[];
  /** Stops renewing and hands every lease back at once, so other replicas take over without waiting. */
  stop(): Promise<void>;
  /**
   * One stream's lease for a short job outside the runner (`doctor --fix` writing a stream's state),
   * so its writes are fenced like the runner's. Undefined when another replica holds the stream.
   */
  claim(streamId: string): Promise<StreamClaim | undefined>;
}

export interface StreamClaim {
  /** Goes with every write of the stream's state (undefined: one process, nothing to fence). */
  fence: Fence | undefined;
  /** Ends the lease at once, so the daemon's replicas take the stream again without waiting. */
  release(): Promise<void>;
}

/** The embedded store: one daemon per state folder, so this process owns every stream. */
export class LocalCoordinator implements Coordinator {
  readonly replicaId = 'local';
  #held: string[] = [];
  start(streamIds: readonly string[], events: LeaseEvents): void {
    this.#held = [...streamIds];
    for (const id of streamIds) events.acquired(id, undefined);
  }
  lost(streamId: string, _fence: Fence | undefined): void {
    this.#held = this.#held.filter((id) => id !== streamId);
  }
  held(): string[] {
    return [...this.#held];
  }
  async stop(): Promise<void> {
    this.#held = [];
  }
  /** The embedded store's lock already keeps a daemon off the folder while this process has it open. */
  async claim(): Promise<StreamClaim> {
    return { fence: undefined, release: async () => undefined };
  }
}

/** A stream's lease as the shared store records it. */
export interface StreamLease {
  owner: string;
  epoch: number;
  /** Not expired: `owner` runs the stream (it renews only leases of streams it runs). */
  live: boolean;
  /** What the owner said its loop was doing at its last renewal ('running', 'config-error', ...). */
  phase?: string;
  renewedAgoMs: number;
  /** Negative: expired that long ago. */
  expiresInMs: number;
}

export interface ReplicaReport {
  id: string;
  live: boolean;
  heartbeatAgoMs: number;
  /** Leases it held at its last heartbeat. */
  held: number;
}

/** Every lease and replica of a shared store (read by the caller, which knows the store). */
export interface LeaseTable {
  leases: ({ stream: string } & StreamLease)[];
  replicas: ReplicaReport[];
}
