import type { LoadedConfig } from '../config/load.ts';
import { openStateBackend, type StateBackend } from '../scale/state-backend.ts';
import type { ClaimedState } from '../sources/entry.ts';
import { SOURCE_LIST, type SourceKind } from '../sources/index.ts';
import type { StateConfig } from '../state/config.ts';
import { StateLockedError } from '../core/state-store.ts';
import { silentLogger } from '../telemetry/log.ts';
import { checkExport } from './export.ts';
import type { Finding } from './report.ts';

export interface DoctorOptions {
  /** Let each source repair what it safely can (start missing or disabled subscriptions, within the APIs' rules). */
  fix: boolean;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/**
 * Every check of every configured source (the registry's, in its order), then the export endpoint.
 * Within a source, entries are checked one after another, so the output reads in config order and
 * no API sees a burst.
 */
export async function runDoctor(loaded: LoadedConfig, options: DoctorOptions): Promise<Finding[]> {
  const { config } = loaded;
  const findings: Finding[] = [];
  const claims = new StreamClaims(config.state, options.env);
  try {
    for (const source of SOURCE_LIST) {
      const entries = config.sources[source.kind as SourceKind];
      if (entries.length === 0) continue;
      findings.push(...(await source.doctor.check(entries, { fix: options.fix, baseDir: loaded.baseDir, signal: options.signal, claim: (id) => claims.claim(id) })));
    }
  } finally {
    await claims.close();
  }
  findings.push(await checkExport(config.export, options.env));
  return findings;
}

/**
 * A stream's state for a repair, written like the daemon writes it: the state store opened as the
 * daemon opens it (a running daemon holds the file store's lock), and the stream's lease held
 * while it is used, so every write carries the lease's fence.
 */
class StreamClaims {
  readonly #config: StateConfig;
  readonly #env: NodeJS.ProcessEnv | undefined;
  #opened: Promise<StateBackend | string> | undefined;

  constructor(config: StateConfig, env: NodeJS.ProcessEnv | undefined) {
    this.#config = config;
    this.#env = env;
  }

  async claim(streamId: string): Promise<ClaimedState | string> {
    this.#opened ??= openStateBackend(this.#config, silentLogger(), this.#env).catch((err: unknown) => {
      if (err instanceof StateLockedError) return `a running daemon holds the state folder ${this.#config.path}`;
      throw err;
    });
    const setup = await this.#opened;
    if (typeof setup === 'string') return setup;
    const lease = await setup.coordinator.claim(streamId);
    if (!lease) return `another replica holds the stream ${streamId}: the running daemon repairs it itself`;
    const { store } = setup;
    return {
      state: { load: () => store.get(streamId), commit: (value) => store.put(streamId, value, lease.fence) },
      release: lease.release,
    };
  }

  async close(): Promise<void> {
    const setup = await this.#opened?.catch(() => undefined);
    if (setup === undefined || typeof setup === 'string') return;
    await setup.coordinator.stop();
    await setup.store.close();
  }
}
