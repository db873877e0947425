import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { parseDuration, sleep } from '../../../core/time.ts';
import { handleControl } from '../../shared/emulator/control.ts';
import { sendJson, startHttpsServer } from '../../shared/emulator/https.ts';
import type { EmulatorContext, SourceEmulator } from '../../shared/emulator/context.ts';
import { createClientCertificate, type SelfSignedCertificate } from '../../shared/emulator/tls.ts';
import { CONTENT_TYPES, type ContentType } from '../config.ts';
import { handleActivityApi } from './activity-api.ts';
import { type BlobDescriptor, ContentCatalogue } from './catalogue.ts';
import { registerCertificate } from './client-assertion.ts';
import { handleEntra, TokenStore } from './entra.ts';
import { FaultInjector, type FaultSettings, type FaultUpdate, faultUpdateSchema, initialFaults } from './faults.ts';
import { guidFor } from '../../shared/emulator/random.ts';
import { Subscriptions } from './subscriptions.ts';
import { PublisherPools, StartThrottle } from './throttle.ts';

/**
 * The Office 365 emulator: one HTTPS server that is both the Entra login authority and the
 * Management Activity API host (the daemon's `loginUrl` and `apiUrl` both point at it).
 */
export interface O365EmulatorOptions {
  /** Default: a GUID derived from the seed. */
  tenantId?: string;
  clientId?: string;
  /** Default: random for each start (written to `<dir>/o365-client-secret`, never printed). */
  clientSecret?: string;
  /** Extra PEM certificates registered on the app (a generated one is always registered). */
  certificates?: string[];
  /** App roles in issued tokens. Default ActivityFeed.Read and ActivityFeed.ReadDlp. */
  roles?: string[];
  /** Subscriptions enabled at start: true for all five. Default none (the daemon must start them). */
  subscribed?: boolean | ContentType[];
  /** Credential the written daemon config uses. Default 'secret'. */
  configAuth?: 'secret' | 'certificate';
  /** Port to listen on; default ephemeral. */
  port?: number;
  /** One new blob per interval, content types in turn ("2s", or ms; 0 = none). Default 2 s. */
  blobInterval?: string | number;
  /** Late blobs appear in listings up to this long after their contentCreated. Default 3 min. */
  maxLateness?: string | number;
  lateRate?: number;
  duplicateRate?: number;
  largeBlobRate?: number;
  maxRecordsPerBlob?: number;
  largeBlobRecords?: [number, number];
  /** Content already available at start ("2h", up to "7d"). Default none. */
  backlog?: string | number;
  /** Approximate record count of the backlog (e.g. 1_000_000 for the benchmark). */
  backlogRecords?: number;
  /** Items per content listing page. Default 5, so pagination is always exercised. */
  pageSize?: number;
  /** Access token lifetime. Default 3599 s, 6 min under faults (so tokens expire mid-run). */
  tokenLifetime?: string | number;
  /** Per-publisher request budget per minute. Default 2000. */
  requestsPerMinute?: number;
  /** Budget per minute of the pool shared by calls without PublisherIdentifier. Default 30. */
  sharedPoolPerMinute?: number;
  /** Minimum time between accepted subscriptions/start calls per content type. Default 15 min. */
  startInterval?: string | number;
  /** Fault rates on top of `faults` (see faults.ts). */
  faultRates?: FaultUpdate;
  /** Clock the emulator reads (tests move time forward with it). Default Date.now. */
  clock?: () => number;
  /** Server clock offset. Default 0, or -2 h under the clock-skew stage. */
  clockSkew?: string | number;
  /** Fixed delay before every answer (API latency, e.g. 150 for the benchmark). Default 0. */
  latencyMs?: number;
  /** Called on every Management Activity API call (not token calls), with the operation path (benchmark counting). */
  onApiCall?: (path: string) => void;
}

export interface O365Emulator extends SourceEmulator {
  tenantId: string;
  clientId: string;
  /** Emulator-generated credential, for tests; the config references it by file. */
  clientSecret: string;
  /** A certificate registered on the app, with its private key, for certificate-credential clients. */
  clientCertificate: SelfSignedCertificate;
  /** The server's clock (skew included). */
  now(): number;
  faults(): FaultSettings;
  setFaults(update: FaultUpdate): FaultSettings;
  /** Produces a blob at once (tests), created now on the server clock. */
  produceBlob(contentType?: ContentType): BlobDescriptor;
}

const FAULTS_PATH = '/_emulator/faults';

export async function startO365Emulator(context: EmulatorContext, options: O365EmulatorOptions): Promise<O365Emulator> {
  const { seed, stage } = context;
  const tenantId = options.tenantId ?? guidFor(`${seed}:o365:tenant`);
  const clientId = options.clientId ?? guidFor(`${seed}:o365:client`);
  const clientSecret = options.clientSecret ?? randomBytes(30).toString('base64url');
  const clientCertificate = await createClientCertificate('auditrelay emulator app');

  const baseClock = options.clock ?? Date.now;
  const skewMs = ms(options.clockSkew, stage === 'clock-skew' ? -2 * 3_600_000 : 0);
  const clock = () => baseClock() + skewMs;
  const tokenLifetimeMs = ms(options.tokenLifetime, context.faults ? 6 * 60_000 : 3_599_000);

  const catalogue = new ContentCatalogue({
    seed,
    tenantId,
    blobIntervalMs: ms(options.blobInterval, 2000),
    lateRate: options.lateRate ?? 0.15,
    maxLatenessMs: ms(options.maxLateness, 3 * 60_000),
    maxRecordsPerBlob: options.maxRecordsPerBlob ?? 30,
    largeBlobRate: options.largeBlobRate ?? 0.02,
    largeBlobRecords: options.largeBlobRecords ?? [1000, 5000],
    duplicateRate: options.duplicateRate ?? 0.05,
    maxEventAgeMs: 60 * 60_000,
    backlogMs: ms(options.backlog, 0),
    ...(options.backlogRecords !== undefined ? { backlogRecords: options.backlogRecords } : {}),
    backlogSpacingMs: 30_000,
  });
  catalogue.prefill(clock());
  context.truth.addSource(() => catalogue.visibleRecordIds(clock()));

  const subscriptions = initialSubscriptions(stage, options.subscribed);
  const faults = new FaultInjector(initialFaults(context.faults, options.faultRates), seed);
  const tokens = new TokenStore();
  const app = {
    tenantId,
    clientId,
    clientSecret,
    certificates: [clientCertificate.certPem, ...(options.certificates ?? [])].map(registerCertificate),
    roles: options.roles ?? ['ActivityFeed.Read', 'ActivityFeed.ReadDlp'],
  };

  let baseUrl = '';
  const deps = {
    tenantId,
    baseUrl: () => baseUrl,
    clock,
    catalogue,
    subscriptions,
    tokens,
    faults,
    pools: new PublisherPools(options.requestsPerMinute ?? 2000, options.sharedPoolPerMinute ?? 30),
    startThrottle: new StartThrottle(ms(options.startInterval, 15 * 60_000)),
    auditOff: stage === 'audit-off',
    pageSize: options.pageSize ?? 5,
  };
  const entra = { app, tokens, baseUrl: () => baseUrl, tokenLifetimeMs: () => tokenLifetimeMs, clock };

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'https://emulator.invalid');
    if (url.pathname === FAULTS_PATH) return handleControl(req, res, { schema: faultUpdateSchema, read: () => faults.settings, apply: (u) => faults.update(u) });
    if (options.onApiCall && url.pathname.includes('/activity/feed/')) options.onApiCall(url.pathname);
    if (options.latencyMs) await sleep(options.latencyMs);
    if (await handleActivityApi(deps, req, res, url.pathname, url.searchParams)) return;
    if (await handleEntra(entra, req, res, url.pathname, url.searchParams)) return;
    sendJson(res, 404, { Message: 'No HTTP resource was found that matches the request URI.' });
  };
  const server = await startHttpsServer({ tls: context.tls, truth: context.truth, handler, ...(options.port !== undefined ? { port: options.port } : {}) });
  baseUrl = server.url;

  const produce = (contentType?: ContentType) => catalogue.produce(clock(), contentType);
  const intervalMs = ms(options.blobInterval, 2000);
  const timer =
    intervalMs > 0
      ? setInterval(() => {
          // Content produced while the client has stopped a subscription is lost, as in the service.
          if (subscriptions.isStopped(catalogue.peekContentType())) catalogue.skipTurn();
          else produce();
        }, intervalMs)
      : undefined;
  timer?.unref();

  const configEntries = [writeCredentialsAndConfig(context, { tenantId, clientId, clientSecret, clientCertificate, url: server.url, auth: options.configAuth ?? 'secret' })];
  return {
    url: server.url,
    tenantId,
    clientId,
    clientSecret,
    clientCertificate,
    configEntries,
    now: clock,
    faults: () => faults.settings,
    setFaults: (update) => faults.update(update),
    produceBlob: produce,
    close: async () => {
      if (timer) clearInterval(timer);
      await server.close();
    },
  };
}

function initialSubscriptions(stage: string | undefined, subscribed: O365EmulatorOptions['subscribed']): Subscriptions {
  if (stage === 'no-subscription') return new Subscriptions({});
  if (stage === 'disabled-subscription') return new Subscriptions({ disabledByAdmin: CONTENT_TYPES });
  const enabled = subscribed === true ? CONTENT_TYPES : subscribed === false || subscribed === undefined ? [] : subscribed;
  return new Subscriptions({ enabled });
}

/**
 * Writes the credentials as files (mode 0600) and returns the `sources.o365[]` entry that points at
 * the emulator through `${file:...}` references, so no secret is ever in the config text or stdout.
 * Under the wrong-secret stage the file holds a secret the emulator does not accept.
 */
function writeCredentialsAndConfig(
  context: EmulatorContext,
  app: { tenantId: string; clientId: string; clientSecret: string; clientCertificate: SelfSignedCertificate; url: string; auth: 'secret' | 'certificate' },
): Record<string, unknown> {
  const secretFile = join(context.dir, 'o365-client-secret');
  const keyFile = join(context.dir, 'o365-client-key.pem');
  const certFile = join(context.dir, 'o365-client-cert.pem');
  const secret = context.stage === 'wrong-secret' ? `${app.clientSecret.slice(0, -4)}WRNG` : app.clientSecret;
  writeFileSync(secretFile, secret, { mode: 0o600 });
  writeFileSync(keyFile, app.clientCertificate.keyPem, { mode: 0o600 });
  writeFileSync(certFile, app.clientCertificate.certPem);
  const credential =
    app.auth === 'certificate'
      ? { certificate: { privateKey: `\${file:${keyFile}}`, certificate: `\${file:${certFile}}` } }
      : { clientSecret: `\${file:${secretFile}}` };
  return {
    name: 'emulated-o365',
    tenantId: app.tenantId,
    apiUrl: app.url,
    loginUrl: app.url,
    clientId: app.clientId,
    ...credential,
    publisherIdentifier: app.tenantId,
    pollInterval: '2s',
    tls: { ca: `\${file:${context.tls.caPath}}` },
  };
}

function ms(value: string | number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  return typeof value === 'number' ? value : parseDuration(value);
}
