import { z } from 'zod';
import { clientTls, duration, guid, httpsUrl } from '../../config/types.ts';

export const CONTENT_TYPES = ['Audit.AzureActiveDirectory', 'Audit.Exchange', 'Audit.SharePoint', 'Audit.General', 'DLP.All'] as const;
export type ContentType = (typeof CONTENT_TYPES)[number];

/** API host and login authority per cloud (docs/api-notes.md#o365-endpoints). */
export const CLOUDS = {
  enterprise: { apiUrl: 'https://manage.office.com', loginUrl: 'https://login.microsoftonline.com' },
  gcc: { apiUrl: 'https://manage-gcc.office.com', loginUrl: 'https://login.microsoftonline.com' },
  'gcc-high': { apiUrl: 'https://manage.office365.us', loginUrl: 'https://login.microsoftonline.us' },
  dod: { apiUrl: 'https://manage.protection.apps.mil', loginUrl: 'https://login.microsoftonline.us' },
} as const;

const certificate = z
  .object({
    privateKey: z.string().min(1).describe('PEM private key of the app registration certificate (use ${file:...})'),
    certificate: z
      .string()
      .optional()
      .describe('PEM certificate: its thumbprint is computed, and it is sent as x5c for subject-name/issuer auth'),
    thumbprintSha256: z.string().regex(/^[0-9a-fA-F]{64}$/).optional().describe('SHA-256 thumbprint, hex (if no certificate is given)'),
    thumbprint: z.string().regex(/^[0-9a-fA-F]{40}$/).optional().describe('SHA-1 thumbprint, hex (legacy)'),
  })
  .strict()
  .refine((c) => c.certificate || c.thumbprintSha256 || c.thumbprint, {
    message: 'give the certificate (PEM) or its thumbprintSha256',
  });

export const o365TenantSchema = z
  .object({
    tenantId: guid.describe('Entra tenant id (GUID)'),
    name: z.string().optional().describe('Label used in logs and metrics (default: the tenant id)'),
    cloud: z.enum(['enterprise', 'gcc', 'gcc-high', 'dod']).default('enterprise'),
    apiUrl: httpsUrl.optional().describe('Overrides the cloud preset API base, e.g. https://manage.office.com'),
    loginUrl: httpsUrl.optional().describe('Overrides the cloud preset login authority host'),
    clientId: z.string().min(1).describe('Application (client) id of the app registration'),
    clientSecret: z.string().min(1).optional().describe('Client secret (use ${env:...} or ${file:...})'),
    certificate: certificate.optional(),
    publisherIdentifier: guid.optional().describe('Sent as PublisherIdentifier on every call (default: tenantId)'),
    contentTypes: z.array(z.enum(CONTENT_TYPES)).min(1).default([...CONTENT_TYPES]),
    requestsPerMinute: z.number().int().positive().default(2000).describe('Request budget shared by all content types'),
    initialLookback: duration('7d').default(7 * 86_400_000).describe('How far back a new stream starts (at most 7d)'),
    pollInterval: duration('1m').default(60_000).describe('How often each content type is listed'),
    relistOverlap: duration('1h').default(3_600_000).describe('Each listing re-reads this much before the cursor, to find blobs listed late'),
    blobConcurrency: z.number().int().min(1).max(64).default(4).describe('Blobs fetched at once per content type'),
    maxBlobAttempts: z.number().int().min(1).default(6).describe('Attempts before a failing blob is set aside and reported'),
    tls: clientTls.optional().describe('Trust and client certificates for the API and login hosts'),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (!t.clientSecret === !t.certificate) {
      ctx.addIssue({ code: 'custom', path: ['clientSecret'], message: 'give exactly one of clientSecret or certificate' });
    }
    if (t.initialLookback > 7 * 86_400_000) {
      ctx.addIssue({ code: 'custom', path: ['initialLookback'], message: 'the API keeps content for 7 days: at most 7d' });
    }
  });

export type O365TenantConfig = z.infer<typeof o365TenantSchema>;

export function resolvedUrls(t: O365TenantConfig): { apiUrl: string; loginUrl: string } {
  const preset = CLOUDS[t.cloud];
  return {
    apiUrl: (t.apiUrl ?? preset.apiUrl).replace(/\/+$/, ''),
    loginUrl: (t.loginUrl ?? preset.loginUrl).replace(/\/+$/, ''),
  };
}
