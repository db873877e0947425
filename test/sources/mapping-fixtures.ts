/** Fixture loading and mapping shared by the golden and property tests. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseJsonExact } from '../../src/sources/shared/mapping/attributes.ts';
import type { AuditRecord } from '../../src/core/record.ts';
import { DEFAULT_SIEM } from '../../src/config-kit/siem.ts';
import { mapGoogleActivity } from '../../src/sources/google/mapping/index.ts';
import { mapO365Record } from '../../src/sources/o365/mapping/index.ts';

export const FIXTURES = join(import.meta.dirname, '../fixtures');
const OBSERVED = Date.UTC(2024, 4, 15, 0, 0, 0);

export function fixtureNames(source: 'o365' | 'google'): string[] {
  return readdirSync(join(FIXTURES, source))
    .filter((f) => f.endsWith('.json') && !f.endsWith('.expected.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

export function loadFixture(source: 'o365' | 'google', name: string): unknown[] {
  const parsed = parseJsonExact(readFileSync(join(FIXTURES, source, `${name}.json`), 'utf8')) as unknown;
  if (source === 'google') return (parsed as { items: unknown[] }).items;
  return parsed as unknown[];
}

export function mapFixture(source: 'o365' | 'google', name: string): AuditRecord[] {
  const raws = loadFixture(source, name);
  if (source === 'o365') {
    const contentType = name.startsWith('entra') ? 'Audit.AzureActiveDirectory' : name.startsWith('exchange') ? 'Audit.Exchange' : name.startsWith('dlp') ? 'DLP.All' : /^(sharepoint|onedrive)/.test(name) ? 'Audit.SharePoint' : 'Audit.General';
    return raws.map((r) => mapO365Record(r, { tenantId: '4f1c2b7e-9a3d-4e61-8b2f-6d0c5a9e7b13', contentType, observedUnixMs: OBSERVED, siem: DEFAULT_SIEM }));
  }
  return raws.flatMap((a) => mapGoogleActivity(a, { customerId: 'C03az79cb', application: name, observedUnixMs: OBSERVED, siem: DEFAULT_SIEM }));
}

