import { z } from 'zod';
import type { StoredViews } from '../telemetry/status.ts';
import type { SourceEntry } from './entry.ts';
import { REGISTRY as registry } from './registry.ts';

/** The registry, by kind, with each source's own types (its config entries, emulator, ...). */
export const SOURCES = registry;
export type Sources = typeof registry;
export type SourceKind = keyof Sources;

/** Every source, in registry order (the order of doctor's checks and demo banners). */
export const SOURCE_LIST: readonly SourceEntry[] = Object.values(registry) as SourceEntry[];

export const SOURCE_KINDS = SOURCE_LIST.map((s) => s.kind) as SourceKind[];

/** The entry of `kind` (a stream id's first part, a `--source` value), if there is one. */
export function sourceOf(kind: string): SourceEntry | undefined {
  return SOURCE_LIST.find((s) => s.kind === kind);
}

/** What one entry of `sources.<kind>[]` holds after validation (a tenant, a customer). */
export type ConfigEntryOf<K extends SourceKind> = z.infer<Sources[K]['configSchema']>;

/** The `sources` section of the config file: one list per source, every source known here. */
export function sourcesSchema() {
  const shape = Object.fromEntries(SOURCE_LIST.map((s) => [s.kind, z.array(s.configSchema).default([])])) as {
    [K in SourceKind]: z.ZodDefault<z.ZodArray<Sources[K]['configSchema']>>;
  };
  const empty = Object.fromEntries(SOURCE_KINDS.map((k) => [k, []])) as unknown as { [K in SourceKind]: ConfigEntryOf<K>[] };
  return z.object(shape).strict().default(empty);
}

/** For `auditrelay status`: each source reads its own stored documents (restored, then viewed). */
export const storedViews: StoredViews = (kind) => {
  const source = sourceOf(kind);
  return source && ((doc) => source.state.view(source.state.restore(doc)));
};
