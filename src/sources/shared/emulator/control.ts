import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { readBody, sendJson } from './https.ts';

/**
 * A run-time control endpoint such as `/_emulator/faults`: GET answers the current settings, POST
 * validates a JSON update with `schema`, applies it and answers the new settings. Shared by every
 * source emulator so they switch faults the same way.
 */
export async function handleControl<T>(
  req: IncomingMessage,
  res: ServerResponse,
  control: { schema: z.ZodType<T>; read: () => unknown; apply: (update: T) => unknown },
): Promise<void> {
  if (req.method === 'GET') return sendJson(res, 200, control.read());
  if (req.method !== 'POST') return sendJson(res, 405, { error: 'GET or POST' });
  let parsed: unknown;
  try {
    parsed = JSON.parse((await readBody(req)) || '{}');
  } catch {
    return sendJson(res, 400, { error: 'body is not JSON' });
  }
  const update = control.schema.safeParse(parsed);
  if (!update.success) return sendJson(res, 400, { error: update.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
  sendJson(res, 200, control.apply(update.data));
}
