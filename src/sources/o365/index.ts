import type { SiemOptions } from '../../core/siem.ts';
import type { Source, Stream } from '../../core/source.ts';
import { ClockSkew, TenantThrottle } from './api-call.ts';
import { TokenProvider } from './auth.ts';
import type { TenantClient } from './client/tenant-client.ts';
import { type O365TenantConfig, resolvedUrls } from './config.ts';
import { createDispatcher } from './http.ts';
import { O365Stream } from './stream.ts';

/** The Office 365 source: one stream per tenant × content type; a tenant's streams share its client and budget. */
export function createO365Source(tenants: O365TenantConfig[], siem: SiemOptions): Source {
  const dispatchers = tenants.map((t) => createDispatcher(t.tls));
  const streams: Stream[] = tenants.flatMap((tenant, i) => {
    const urls = resolvedUrls(tenant);
    const dispatcher = dispatchers[i]!;
    const client: TenantClient = {
      tenantId: tenant.tenantId,
      apiUrl: urls.apiUrl,
      publisherIdentifier: tenant.publisherIdentifier ?? tenant.tenantId,
      dispatcher,
      tokens: new TokenProvider(tenant, urls, dispatcher),
      throttle: new TenantThrottle(),
    };
    const skew = new ClockSkew();
    return tenant.contentTypes.map((contentType) => new O365Stream({ tenant, contentType, client, skew, siem }));
  });
  return {
    kind: 'o365',
    streams: () => streams,
    close: async () => {
      await Promise.all(dispatchers.map((d) => d.close()));
    },
  };
}
