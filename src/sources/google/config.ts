import { z } from 'zod';
import { clientTls, duration, httpsUrl } from '../../config/types.ts';

/** The applications of the Reports API (docs/api-notes.md#google-applications); unknown names answer 400. */
export const APPLICATIONS = [
  'access_evaluation',
  'access_transparency',
  'admin',
  'admin_data_action',
  'assignments',
  'calendar',
  'chat',
  'chrome',
  'chrome_sync',
  'classroom',
  'cloud_search',
  'contacts',
  'context_aware_access',
  'data_migration',
  'data_studio',
  'directory_sync',
  'drive',
  'gcp',
  'gemini_in_workspace_apps',
  'gmail',
  'gplus',
  'graduation',
  'groups',
  'groups_enterprise',
  'jamboard',
  'keep',
  'ldap',
  'login',
  'meet',
  'meet_hardware',
  'mobile',
  'profile',
  'rules',
  'saml',
  'takeout',
  'tasks',
  'token',
  'user_accounts',
  'vault',
  'voice',
  'workspace_studio',
] as const;
export type Application = (typeof APPLICATIONS)[number];

export const REPORTS_SCOPE = 'https://www.googleapis.com/auth/admin.reports.audit.readonly';
export const GOOGLE_API_ROOT = 'https://admin.googleapis.com/';
export const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** The Reports API keeps activities for 180 days. */
export const RETENTION_MS = 180 * DAY;
/** Gmail answers only windows of at most 30 days. */
export const GMAIL_MAX_WINDOW_MS = 30 * DAY;

/**
 * How late each kind of application delivers events (docs/api-notes.md#google-lag), as the ages at which a window is
 * polled again. A window is first polled as soon as it closes, then again once its end is this old;
 * the last age is the longest lag we still look for. Denser ages find a late event sooner; every age
 * costs one more read of the window.
 */
export const LAG_PROFILES = {
  /** admin, chrome, chat, context_aware_access and similar: minutes, rarely more. */
  minutes: [2 * MINUTE, 5 * MINUTE, 15 * MINUTE, HOUR, 6 * HOUR, DAY, 3 * DAY],
  /** calendar: tens of minutes to hours. */
  tensOfMinutes: [5 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 4 * HOUR, 8 * HOUR, DAY, 3 * DAY],
  /** login, drive, token, user_accounts, gmail: 30 minutes to several hours, rarely days. */
  hours: [10 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR, 4 * HOUR, 6 * HOUR, 8 * HOUR, 12 * HOUR, 18 * HOUR, DAY, 2 * DAY, 3 * DAY, 5 * DAY],
} as const satisfies Record<string, readonly number[]>;
export type LagProfile = keyof typeof LAG_PROFILES;

const SLOW_APPLICATIONS: ReadonlySet<string> = new Set(['login', 'drive', 'token', 'user_accounts', 'gmail']);

export function lagProfileOf(application: string): LagProfile {
  if (SLOW_APPLICATIONS.has(application)) return 'hours';
  if (application === 'calendar') return 'tensOfMinutes';
  return 'minutes';
}

const applicationObject = z
  .object({
    name: z.enum(APPLICATIONS),
    userKey: z.string().min(1).default('all').describe('"all", or one user (email or profile id) whose activities are pulled'),
    eventName: z.string().min(1).optional().describe('Only this event name'),
    filters: z.string().min(1).optional().describe('Event parameter filters, e.g. "doc_id==12345,visibility<>private"'),
    orgUnitID: z.string().min(1).optional().describe('Only users of this organizational unit'),
    actorIpAddress: z.string().min(1).optional().describe('Only activities from this IP address'),
    groupIdFilter: z.string().min(1).optional().describe('Only users in these groups, e.g. "id:abc123,id:xyz456"'),
    repollAges: z
      .array(duration('1h'))
      .min(1)
      .optional()
      .describe('Ages at which a window is polled again (default: from the application\'s known lag, see LAG_PROFILES)'),
  })
  .strict();

/** An application is named, or given with its own filters. */
const application = z.union([z.enum(APPLICATIONS).transform((name) => applicationObject.parse({ name })), applicationObject]);
export type GoogleApplicationConfig = z.infer<typeof applicationObject>;

const credentials = z
  .object({
    keyFile: z.string().min(1).optional().describe('Path of the service account JSON key'),
    key: z.string().min(1).optional().describe('The service account JSON key itself (use ${env:...} or ${file:...})'),
  })
  .strict()
  .refine((c) => !c.keyFile !== !c.key, { message: 'give exactly one of keyFile or key' });

export const googleCustomerSchema = z
  .object({
    customerId: z.string().min(1).describe('Google Workspace customer id (Admin console > Account settings), e.g. C01abc2de'),
    name: z.string().optional().describe('Label used in logs and metrics (default: the customer id)'),
    credentials,
    subject: z.email().describe('Admin the service account impersonates (domain-wide delegation); needs the Reports privilege'),
    projectId: z
      .string()
      .min(1)
      .optional()
      .describe('Google Cloud project whose quota the requests use (default: project_id of the key); keys the request budget'),
    applications: z
      .array(application)
      .min(1)
      .default(APPLICATIONS.map((name) => applicationObject.parse({ name })))
      .describe('Applications to pull, each its own stream with its own cursor (default: all)'),
    requestsPerMinute: z.number().int().positive().default(2400).describe('Request budget of the Cloud project, shared by every application of it'),
    initialLookback: duration('7d').default(7 * DAY).describe('How far back a new stream starts (at most 180d, the retention)'),
    pollInterval: duration('1m').default(MINUTE).describe('How often new events are asked for; also the smallest re-poll step'),
    backfillChunk: duration('1d').default(DAY).describe('Largest window per query while catching up (gmail: at most 30d)'),
    repollAgeScale: z
      .number()
      .positive()
      .max(1)
      .default(1)
      .describe('Multiplies every re-poll age: only for emulators and tests whose lag is scaled down'),
    seenSetMax: z
      .number()
      .int()
      .min(1000)
      .default(200_000)
      .describe('Most event ids remembered per application to skip re-exports on re-polls (older ones are forgotten first)'),
    rootUrl: httpsUrl.optional().describe('Reports API root (default https://admin.googleapis.com/): for emulators'),
    tokenUri: httpsUrl.optional().describe('OAuth token endpoint (default https://oauth2.googleapis.com/token): for emulators'),
    tls: clientTls.optional().describe('Trust and client certificates for the API and token hosts'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.initialLookback > RETENTION_MS) {
      ctx.addIssue({ code: 'custom', path: ['initialLookback'], message: 'the Reports API keeps activities for 180 days: at most 180d' });
    }
    const names = c.applications.map((a) => a.name);
    const repeated = names.filter((n, i) => names.indexOf(n) !== i);
    if (repeated.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['applications'], message: `listed twice: ${[...new Set(repeated)].join(', ')}` });
    }
  });

export type GoogleCustomerConfig = z.infer<typeof googleCustomerSchema>;

/** Re-poll ages of one application, in ms, increasing, after the config's overrides and scale. */
export function repollAgesOf(customer: Pick<GoogleCustomerConfig, 'repollAgeScale'>, app: GoogleApplicationConfig): number[] {
  const base = app.repollAges ?? LAG_PROFILES[lagProfileOf(app.name)];
  const scaled = base.map((age) => Math.max(1, Math.round(age * customer.repollAgeScale)));
  return [...new Set(scaled)].sort((a, b) => a - b);
}
