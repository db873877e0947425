import type { SiemOptions } from '../shared/mapping/siem.ts';
import type { Source, Stream } from '../../core/source.ts';
import { createGoogleAuth, type GoogleAuth, readServiceAccountKey } from './auth.ts';
import { createReportsClient, listActivities } from './client/list-activities.ts';
import type { GoogleCustomerConfig } from './config.ts';
import { googleResource, mapGoogleActivity } from './mapping/index.ts';
import type { PageLimits } from './pagination.ts';
import { type CustomerApi, type GoogleCustomerHandle, GoogleStream } from './stream.ts';

export interface GoogleSourceDeps {
  siem: SiemOptions;
  /** Folder relative `credentials.keyFile` paths resolve from (the config file's); default: the working directory. */
  baseDir?: string;
  /** Overrides the pagination guards (tests). */
  pageLimits?: PageLimits;
}

/**
 * The Google Workspace source: one stream per customer × application. A customer's streams share
 * one auth client and one HTTP pool; every customer whose key names the same Cloud project shares
 * that project's request budget (the core keys budgets by `google/<project>`).
 */
export function createGoogleSource(customers: GoogleCustomerConfig[], deps: GoogleSourceDeps): Source {
  const opened: GoogleAuth[] = [];
  const streams: Stream[] = customers.flatMap((customer) => {
    const handle = customerHandle(customer, deps.baseDir, opened);
    const projectId = customer.projectId ?? projectOf(customer, deps.baseDir);
    const resource = googleResource(customer.customerId);
    return customer.applications.map(
      (app) =>
        new GoogleStream({
          handle,
          app,
          projectId,
          resource,
          pageLimits: deps.pageLimits,
          map: (activity, observedUnixMs) =>
            mapGoogleActivity(activity, { customerId: customer.customerId, application: app.name, observedUnixMs, siem: deps.siem }),
        }),
    );
  });
  return {
    kind: 'google',
    streams: () => streams,
    close: async () => {
      await Promise.allSettled(opened.map((a) => a.close()));
    },
  };
}

/** The key's project keys the budget. An unreadable key is reported by the stream when it runs, not here. */
function projectOf(customer: GoogleCustomerConfig, baseDir: string | undefined): string {
  try {
    return readServiceAccountKey(customer.credentials, baseDir).projectId;
  } catch {
    return `customer-${customer.customerId}`;
  }
}

function customerHandle(customer: GoogleCustomerConfig, baseDir: string | undefined, opened: GoogleAuth[]): GoogleCustomerHandle {
  let api: CustomerApi | undefined;
  return {
    customer,
    open() {
      if (api) return api;
      const auth = createGoogleAuth(customer, baseDir);
      opened.push(auth);
      const client = createReportsClient(auth.jwt, customer.rootUrl);
      api = {
        clientEmail: auth.key.clientEmail,
        clientId: auth.key.clientId,
        list: (query, signal) => listActivities(client, query, signal),
        renewToken: () => auth.renewToken(),
      };
      return api;
    },
  };
}
