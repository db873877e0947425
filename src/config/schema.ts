import { z } from 'zod';
import { SOURCE_KINDS, sourcesSchema } from '../sources/index.ts';
import { exportSchema } from '../export/config.ts';
import { stateSchema } from '../state/config.ts';
import { telemetrySchema } from '../telemetry/config.ts';
import { duration } from '../config-kit/fields.ts';

/**
 * The whole daemon configuration, composed of each component's own section: every default is written
 * once, beside its doc, in the `config.ts` next to what it configures (`export/`, `state/`,
 * `telemetry/`, each `sources/<kind>/`), and the daemon-wide ones below; the retry constants the
 * file does not set are in `core/retry-defaults.ts`. `config/auditrelay.schema.json` is generated
 * from this file (`npm run schema`) for editors.
 */

export const configSchema = z
  .object({
    $schema: z.string().optional(),
    state: stateSchema.prefault({}),
    export: exportSchema.default(exportSchema.parse({})),
    log: z
      .object({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'silent']).default('info') })
      .strict()
      .default({ level: 'info' }),
    telemetry: telemetrySchema.prefault({}),
    shutdownTimeout: duration('30s').default(30_000).describe('On SIGTERM/SIGINT: how long to finish in-flight deliveries and checkpoint before exiting'),
    fetchSlots: z
      .number()
      .int()
      .min(1)
      .default(16)
      .describe('Blobs/pages held in memory at once across all streams: the bound on memory while the endpoint is slow'),
    sources: sourcesSchema(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const count = Object.values(c.sources).reduce((n, list) => n + (list as unknown[]).length, 0);
    if (count === 0) ctx.addIssue({ code: 'custom', path: ['sources'], message: `configure at least one source (${SOURCE_KINDS.map((k) => `sources.${k}`).join(' or ')})` });
  });

export type Config = z.infer<typeof configSchema>;
