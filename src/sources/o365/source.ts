import { RecentIds, scopedRecentIds } from '../../core/recent-ids.ts';
import type { SiemOptions } from '../shared/mapping/siem.ts';
import type { Source, Stream } from '../../core/source.ts';
import { ClockSkew } from './clock-skew.ts';
import type { O365TenantConfig } from './config.ts';
import { O365Stream } from './stream.ts';
import { createTenantClient } from './tenant.ts';

/**
 * Record ids remembered to drop Office 365's by-design repeats across blobs, for all tenants of the
 * source together (about 10 MB): repeats sit in blobs close in time, so a short memory catches most,
 * and one bound for the whole source keeps memory flat whether it serves one tenant or hundreds
 * (10,000 per stream made 250 streams hold 40 MB of ids). Anything it misses still carries its uid.
 */
const RECENT_IDS = 100_000;

/** The Office 365 source: one stream per tenant × content type; a tenant's streams share its client and budget. */
export function createO365Source(tenants: O365TenantConfig[], siem: SiemOptions): Source {
  const clients = tenants.map(createTenantClient);
  const recent = new RecentIds(RECENT_IDS);
  const streams: Stream[] = tenants.flatMap((tenant, i) => {
    const client = clients[i]!;
    const skew = new ClockSkew();
    return tenant.contentTypes.map(
      (contentType, j) => new O365Stream({ tenant, contentType, client, skew, siem, recent: scopedRecentIds(recent, `${i}.${j}:`) }),
    );
  });
  return {
    kind: 'o365',
    streams: () => streams,
    close: async () => {
      await Promise.all(clients.map((c) => c.dispatcher.close()));
    },
  };
}
