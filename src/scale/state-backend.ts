import type { BudgetSource } from '../core/budget.ts';
import { FileStateStore } from '../state/file-store.ts';
import type { StateConfig } from '../state/config.ts';
import type { StateStore } from '../core/state-store.ts';
import type { Logger } from '../core/log.ts';
import { type Coordinator, LocalCoordinator } from '../core/coordinator.ts';
import { defaultReplicaId, PostgresCoordinator } from './leases.ts';

/** Set to a postgres:// URL, it selects the postgres store whatever the config file says (containers). */
export const STATE_URL_ENV = 'AUDITRELAY_STATE_URL';

/**
 * Where state lives, chosen from `state.kind` (or AUDITRELAY_STATE_URL): the embedded file store with
 * this process running every stream, or postgres shared by replicas. Either way: the store, who
 * decides which streams run here, and (for replicas) the shared budgets.
 */
export interface StateBackend {
  store: StateStore;
  coordinator: Coordinator;
  /** Undefined: the runner's per-process budgets (one daemon owns its tenants). */
  budgets?: BudgetSource;
}

/** The state settings after `AUDITRELAY_STATE_URL` is applied. */
export function resolveStateConfig(state: StateConfig, env: NodeJS.ProcessEnv = process.env): StateConfig {
  const url = env[STATE_URL_ENV]?.trim();
  if (!url) return state;
  if (!/^postgres(ql)?:\/\//i.test(url)) throw new Error(`${STATE_URL_ENV} must be a postgres:// or postgresql:// URL`);
  return { ...state, kind: 'postgres', url };
}

export async function openStateBackend(config: StateConfig, log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<StateBackend> {
  const state = resolveStateConfig(config, env);
  if (state.kind === 'file') return { store: await FileStateStore.open(state.path), coordinator: new LocalCoordinator() };
  // Loaded only when used: the postgres client is memory a single daemon has no use for.
  const [{ PostgresStateStore }, { SharedBudgetRegistry }] = await Promise.all([import('../state/postgres-store.ts'), import('./budget-postgres.ts')]);
  const store = await PostgresStateStore.open({ ...(state.url !== undefined ? { url: state.url } : {}), schema: state.schema, log });
  const replicaId = state.replicaId ?? defaultReplicaId();
  log.info({ store: store.location, replica: replicaId }, 'state in postgres, shared with other replicas');
  return {
    store,
    coordinator: new PostgresCoordinator(store, { ttlMs: state.leaseTtl, renewEveryMs: state.leaseRenewInterval }, log, replicaId),
    budgets: new SharedBudgetRegistry(store, log),
  };
}
