import { startHttpsServer } from '../../../emulator/https.ts';
import type { EmulatorContext, SourceEmulator } from '../../../emulator/source.ts';

/** Options of the Office 365 emulator (filled in by the emulator proper). */
export interface O365EmulatorOptions {
  tenantId?: string;
}

export interface O365Emulator extends SourceEmulator {
  tenantId: string;
}

export const O365_STAGES = ['wrong-secret', 'no-subscription', 'disabled-subscription', 'audit-off', 'clock-skew'] as const;

/** Placeholder while the emulator is written: answers 404 to everything but the truth path. */
export async function startO365Emulator(context: EmulatorContext, options: O365EmulatorOptions): Promise<O365Emulator> {
  const server = await startHttpsServer({
    tls: context.tls,
    truth: context.truth,
    handler: (_req, res) => {
      res.writeHead(404).end();
    },
  });
  const tenantId = options.tenantId ?? '00000000-0000-4000-8000-000000000001';
  return { url: server.url, tenantId, configEntries: [], close: server.close };
}
