import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { configSchema } from './schema.ts';

/** The config's JSON Schema for editors, generated from the zod schema (where every default is written). */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, $id: 'https://auditrelay.dev/schema/auditrelay.schema.json', title: 'auditrelay configuration' };
}

export const JSON_SCHEMA_PATH = fileURLToPath(new URL('../../config/auditrelay.schema.json', import.meta.url));

// `npm run schema` regenerates the published file.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(JSON_SCHEMA_PATH, JSON.stringify(configJsonSchema(), null, 2) + '\n');
  process.stdout.write(`wrote ${JSON_SCHEMA_PATH}\n`);
}
