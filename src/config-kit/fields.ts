import { z } from 'zod';
import { parseDuration } from '../core/time.ts';

/** A duration written as "30s", "15m", "2h", "7d" (or a number of milliseconds); parsed to ms. */
export const duration = (example: string) =>
  z
    .union([z.string(), z.number().int().nonnegative()])
    .transform((value, ctx) => {
      if (typeof value === 'number') return value;
      try {
        return parseDuration(value);
      } catch {
        ctx.addIssue({ code: 'custom', message: `expected a duration like "${example}", got "${value}"` });
        return z.NEVER;
      }
    })
    .meta({ description: `A duration such as "${example}" (units ms, s, m, h, d) or milliseconds`, examples: [example] });

export const guid = z
  .string()
  .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'expected a GUID like 0b7b3a1e-2c4d-4e5f-8a9b-0c1d2e3f4a5b');

export const httpsUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });

/** TLS material for a client: PEM text or a file (via ${file:...}). */
export const clientTls = z
  .object({
    ca: z.string().optional().describe('Extra CA certificate(s) to trust, PEM text (use ${file:/path/ca.pem})'),
    cert: z.string().optional().describe('Client certificate, PEM'),
    key: z.string().optional().describe('Client private key, PEM'),
  })
  .strict();
export type ClientTls = z.infer<typeof clientTls>;
