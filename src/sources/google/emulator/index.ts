import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { z } from 'zod';
import { handleControl } from '../../shared/emulator/control.ts';
import { sendJson, startHttpsServer } from '../../shared/emulator/https.ts';
import type { EmulatorContext, SourceEmulator } from '../../shared/emulator/context.ts';
import { parseDuration, sleep } from '../../../core/time.ts';
import { Random } from '../../shared/emulator/random.ts';
import { REPORTS_SCOPE } from '../config.ts';
import { ActivityStore } from './activities.ts';
import { handleToken, type OAuthState, publicKeyOf } from './oauth.ts';
import { GOOGLE_FAULT_KINDS, type GoogleFaultKind, type GoogleFaults, handleReports, REALISTIC_GOOGLE_RATES, type ReportsState } from './reports.ts';

/**
 * The Google Workspace emulator: Google's OAuth token endpoint (JWT bearer grant) and the Reports
 * API `activities.list`, on one HTTPS server, driven by the real `google-auth-library` and
 * `@googleapis/admin` (token URI and root URL pointed here). Activities appear continuously and
 * become visible late and out of order (lags per application, scaled by `lagScale`); every event
 * is announced to the truth registry at the moment a client could first see it.
 *
 * Faults switch at run time: `POST /_emulator/faults` with `{"rates": {"quota403": 0.2}, "quotaPerMinute": 300}`
 * (merged; `{"all": 0}` sets every rate).
 */
export interface GoogleEmulatorOptions {
  customerId?: string;
  domain?: string;
  /** Applications that get activities and go into the daemon config. */
  applications?: string[];
  /** Activities before the start (history the daemon back-fills). Default 30m. */
  history?: string | number;
  /** Activities per minute per application (history and live). Default 12. */
  eventsPerMinute?: number;
  /** Keep producing activities after the start. Default true; false gives a finite truth (late ones still appear). */
  live?: boolean;
  /** Multiplies the field lags (1 h of lag becomes 5 s at the default 1/720); also the daemon's repollAgeScale. */
  lagScale?: number;
  /** Activities per page at most (the client asks for 1000). Default 40, so paging is exercised. */
  pageSize?: number;
  faultRates?: Partial<Record<GoogleFaultKind, number>>;
  /** Queries per minute per project before quota 403s (0: none). Default 0, or 900 with faults. */
  quotaPerMinute?: number;
  /** Request budget written into the daemon config. Default 2400. */
  requestsPerMinute?: number;
  clock?: () => number;
  /** Server clock offset. Default 0, or -2 h under the clock-skew stage. */
  clockSkew?: string | number;
  port?: number;
  /** Fixed delay before every answer (API latency, e.g. 150 for the benchmark). Default 0. */
  latencyMs?: number;
  /** Called on every Reports API call (not token calls), with its path (benchmark counting). */
  onApiCall?: (path: string) => void;
}

export interface GoogleEmulator extends SourceEmulator {
  customerId: string;
  subject: string;
  /** The generated service account key (a file, mode 0600). */
  keyFile: string;
  store: ActivityStore;
  now(): number;
  faults(): GoogleFaults;
  setFaults(update: GoogleFaultUpdate): GoogleFaults;
  stats(): ReportsState['stats'];
}

const DEFAULT_APPLICATIONS = ['admin', 'login', 'drive', 'token', 'calendar'];
const FAULTS_PATH = '/_emulator/faults';

const rate = z.number().min(0).max(1);
export const googleFaultUpdateSchema = z
  .object({
    all: rate.optional(),
    rates: z.partialRecord(z.enum(GOOGLE_FAULT_KINDS), rate).optional(),
    quotaPerMinute: z.number().int().min(0).optional(),
  })
  .strict();
export type GoogleFaultUpdate = z.infer<typeof googleFaultUpdateSchema>;

function applyUpdate(current: GoogleFaults, update: GoogleFaultUpdate): GoogleFaults {
  const rates = { ...current.rates };
  if (update.all !== undefined) for (const k of GOOGLE_FAULT_KINDS) rates[k] = update.all;
  for (const [k, v] of Object.entries(update.rates ?? {})) if (v !== undefined) rates[k as GoogleFaultKind] = v;
  return { rates, quotaPerMinute: update.quotaPerMinute ?? current.quotaPerMinute };
}

export async function startGoogleEmulator(context: EmulatorContext, options: GoogleEmulatorOptions): Promise<GoogleEmulator> {
  const { seed, stage } = context;
  const customerId = options.customerId ?? `C0${new Random(`${seed}:google:customer`).uint32().toString(36)}`;
  const domain = options.domain ?? 'example.test';
  const subject = `admin@${domain}`;
  const applications = options.applications ?? DEFAULT_APPLICATIONS;
  const lagScale = options.lagScale ?? 1 / 720;
  const baseClock = options.clock ?? Date.now;
  const skewMs = ms(options.clockSkew, stage === 'clock-skew' ? -2 * 3_600_000 : 0);
  const clock = () => baseClock() + skewMs;

  // The service account and its key (RSA, as Google issues them).
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const projectId = 'auditrelay-emulated';
  const clientEmail = `auditrelay@${projectId}.iam.gserviceaccount.com`;
  const clientId = String(100_000_000_000_000_000_000n + BigInt(new Random(`${seed}:google:client`).uint32()));
  const keyFile = join(context.dir, 'google-service-account.json');
  writeFileSync(
    keyFile,
    JSON.stringify({
      type: 'service_account',
      project_id: projectId,
      private_key_id: new Random(`${seed}:google:kid`).uint32().toString(16),
      private_key: privateKeyPem,
      client_email: clientEmail,
      client_id: clientId,
      token_uri: 'https://oauth2.googleapis.com/token',
    }),
    { mode: 0o600 },
  );

  let baseUrl = '';
  const oauth: OAuthState = {
    accounts: new Map([
      [
        clientEmail,
        { clientEmail, clientId, projectId, publicKey: publicKeyOf(privateKeyPem), delegatedScopes: stage === 'no-delegation' ? [] : [REPORTS_SCOPE] },
      ],
    ]),
    users: new Map([
      [subject, stage !== 'no-reports-privilege'],
      [`user1@${domain}`, false],
    ]),
    tokens: new Map(),
    clock,
    tokenUrl: () => `${baseUrl}/token`,
  };

  const store = new ActivityStore({ customerId, domain, seed, lagScale });
  const perMinute = options.eventsPerMinute ?? 12;
  const historyMs = ms(options.history, 30 * 60_000);
  const start = clock();
  const spacing = 60_000 / perMinute;
  for (let t = start - historyMs; t < start; t += spacing) for (const app of applications) store.generate(app, Math.round(t));
  context.truth.addSource(() => store.visibleUids(clock()));

  const state: ReportsState = {
    store,
    oauth,
    customerId,
    faults: applyUpdate(
      { rates: Object.fromEntries(GOOGLE_FAULT_KINDS.map((k) => [k, context.faults ? REALISTIC_GOOGLE_RATES[k] : 0])) as Record<GoogleFaultKind, number>, quotaPerMinute: context.faults ? 900 : 0 },
      { rates: options.faultRates, ...(options.quotaPerMinute !== undefined ? { quotaPerMinute: options.quotaPerMinute } : {}) },
    ),
    random: new Random(`${seed}:google:faults`),
    pageSize: options.pageSize ?? 40,
    recent: new Map(),
    stats: { requests: 0, faults: { ...(Object.fromEntries(GOOGLE_FAULT_KINDS.map((k) => [k, 0])) as Record<GoogleFaultKind, number>), quotaPerMinute: 0 } },
  };

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'https://emulator.invalid');
    if (url.pathname === FAULTS_PATH) {
      return handleControl(req, res, {
        schema: googleFaultUpdateSchema,
        read: () => ({ ...state.faults, stats: state.stats }),
        apply: (update) => {
          state.faults = applyUpdate(state.faults, update);
          return state.faults;
        },
      });
    }
    if (options.latencyMs) await sleep(options.latencyMs);
    if (url.pathname === '/token') return handleToken(oauth, req, res);
    options.onApiCall?.(url.pathname);
    if (handleReports(state, req, res, url)) return;
    sendJson(res, 404, { error: { code: 404, message: 'Not Found', errors: [{ message: 'Not Found', domain: 'global', reason: 'notFound' }] } });
  };
  const server = await startHttpsServer({ tls: context.tls, truth: context.truth, handler, ...(options.port !== undefined ? { port: options.port } : {}) });
  baseUrl = server.url;

  const timer = perMinute > 0 && options.live !== false ? setInterval(() => {
    for (const app of applications) store.generate(app, clock());
  }, spacing) : undefined;
  timer?.unref();

  const configEntries = [
    {
      name: 'emulated-google',
      customerId,
      credentials: { keyFile },
      subject,
      rootUrl: server.url,
      tokenUri: `${server.url}/token`,
      tls: { ca: `\${file:${context.tls.caPath}}` },
      applications,
      initialLookback: historyMs + 5 * 60_000,
      pollInterval: '1s',
      repollAgeScale: Math.min(1, lagScale),
      requestsPerMinute: options.requestsPerMinute ?? 2400,
    },
  ];
  return {
    url: server.url,
    customerId,
    subject,
    keyFile,
    store,
    configEntries,
    now: clock,
    faults: () => state.faults,
    setFaults: (update) => {
      state.faults = applyUpdate(state.faults, update);
      return state.faults;
    },
    stats: () => state.stats,
    close: async () => {
      if (timer) clearInterval(timer);
      await server.close();
    },
  };
}

function ms(value: string | number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  return typeof value === 'number' ? value : parseDuration(value);
}
