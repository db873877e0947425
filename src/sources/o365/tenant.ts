import { TokenProvider } from './auth.ts';
import type { TenantClient } from './client/tenant-client.ts';
import { type O365TenantConfig, resolvedUrls } from './config.ts';
import { createDispatcher } from './http.ts';

/**
 * Everything needed to reach one tenant: its connection pool (with the configured CA), its token
 * provider. The daemon's streams and `doctor` build it the same way.
 */
export function createTenantClient(tenant: O365TenantConfig): TenantClient {
  const urls = resolvedUrls(tenant);
  const dispatcher = createDispatcher(tenant.tls);
  return {
    tenantId: tenant.tenantId,
    apiUrl: urls.apiUrl,
    publisherIdentifier: tenant.publisherIdentifier ?? tenant.tenantId,
    dispatcher,
    tokens: new TokenProvider(tenant, urls, dispatcher),
  };
}
