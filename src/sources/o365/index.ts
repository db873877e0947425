import type { SiemOptions } from '../../core/siem.ts';
import type { Source, Stream } from '../../core/source.ts';
import { ClockSkew } from './api-call.ts';
import type { O365TenantConfig } from './config.ts';
import { O365Stream } from './stream.ts';
import { createTenantClient } from './tenant.ts';

/** The Office 365 source: one stream per tenant × content type; a tenant's streams share its client and budget. */
export function createO365Source(tenants: O365TenantConfig[], siem: SiemOptions): Source {
  const clients = tenants.map(createTenantClient);
  const streams: Stream[] = tenants.flatMap((tenant, i) => {
    const client = clients[i]!;
    const skew = new ClockSkew();
    return tenant.contentTypes.map((contentType) => new O365Stream({ tenant, contentType, client, skew, siem }));
  });
  return {
    kind: 'o365',
    streams: () => streams,
    close: async () => {
      await Promise.all(clients.map((c) => c.dispatcher.close()));
    },
  };
}
