import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.ts';
import { type RunningEmulators, startEmulators } from '../../src/emulator/index.ts';
import { createGoogleAuth, type GoogleAuth } from '../../src/sources/google/auth.ts';
import { createReportsClient, type ReportsClient } from '../../src/sources/google/client/list-activities.ts';
import type { GoogleCustomerConfig } from '../../src/sources/google/config.ts';
import { fixture, jsonType, shapeOf } from './fixtures.ts';

/**
 * The Google emulator answers `activities.list` in the shape the discovery document defines,
 * through the real google-auth-library and @googleapis/admin: no field the schema lacks, each with
 * the schema's JSON type (values differ). Left out, and listed in docs/api-notes.md#known-gaps: the
 * 503 form of quota (the emulator answers 403), the 400 message text, and the schema fields the
 * emulator never writes (networkInfo, resourceDetails, ...).
 */
let emulators: RunningEmulators;
let customer: GoogleCustomerConfig;
let auth: GoogleAuth;
let client: ReportsClient;

beforeAll(async () => {
  emulators = await startEmulators({
    dir: mkdtempSync(join(tmpdir(), 'auditrelay-conformance-google-')),
    seed: 16,
    faults: false,
    o365: { blobInterval: 0 },
    google: { applications: ['admin', 'drive'], history: '30m', live: false, pageSize: 7, eventsPerMinute: 6 },
  });
  const loaded = loadConfigFile(emulators.config);
  customer = loaded.config.sources.google[0]!;
  auth = createGoogleAuth(customer, loaded.baseDir);
  client = createReportsClient(auth.jwt, customer.rootUrl);
});

afterAll(async () => {
  await auth?.close();
  await emulators?.close();
});

const schemaPage = fixture('google/activities-list-schema.json').response!.body as Record<string, unknown>;
const schemaActivity = (schemaPage['items'] as Record<string, unknown>[])[0]!;
const schemaEvents = schemaActivity['events'] as Record<string, unknown>[];
/** Every field an event may have, with its type, from the schema fixture's events together. */
const schemaEvent = Object.assign({}, ...schemaEvents.map(shapeOf)) as Record<string, string>;
/** The value fields of a parameter and their JSON types (Activity.events[].parameters[]). */
const PARAMETER_VALUES: Record<string, string> = {
  value: 'string',
  intValue: 'string',
  boolValue: 'boolean',
  multiValue: 'array',
  multiIntValue: 'array',
  messageValue: 'object',
  multiMessageValue: 'array',
};

/** Every key of `actual` is in `schema` with the same JSON type. */
function expectWithinSchema(actual: unknown, schema: Record<string, string>, where: string): void {
  for (const [key, type] of Object.entries(shapeOf(actual))) expect([where, key, type]).toEqual([where, key, schema[key]]);
}

async function list(params: Record<string, unknown>) {
  return client.activities.list({ customerId: customer.customerId, userKey: 'all', maxResults: 1000, ...params }, { retry: false });
}

describe('the Google emulator answers activities.list in the discovery document\'s shape', () => {
  it('pages and activities carry only schema fields, with the schema\'s types', async () => {
    const end = new Date(emulators.sources.google.now()).toISOString();
    const start = new Date(emulators.sources.google.now() - 3_600_000).toISOString();
    let activities = 0;
    for (const applicationName of ['admin', 'drive']) {
      let pageToken: string | undefined;
      let pages = 0;
      do {
        const res = await list({ applicationName, startTime: start, endTime: end, ...(pageToken ? { pageToken } : {}) });
        expect(res.status).toBe(200);
        expectWithinSchema(res.data, shapeOf(schemaPage), 'page');
        for (const activity of res.data.items ?? []) {
          expectWithinSchema(activity, shapeOf(schemaActivity), 'activity');
          expect(Object.keys(activity.id ?? {}).sort()).toEqual(Object.keys(schemaActivity['id'] as object).sort());
          expectWithinSchema(activity.id, shapeOf(schemaActivity['id']), 'activity.id');
          expectWithinSchema(activity.actor, shapeOf(schemaActivity['actor']), 'activity.actor');
          expect(activity.id?.applicationName).toBe(applicationName);
          expect(Number.isNaN(Date.parse(activity.id?.time ?? ''))).toBe(false);
          expect(activity.id?.uniqueQualifier).toMatch(/^-?\d+$/);
          expect((activity.events ?? []).length).toBeGreaterThan(0);
          for (const event of activity.events ?? []) {
            expectWithinSchema(event, schemaEvent, 'event');
            for (const parameter of event.parameters ?? []) {
              const { name, ...value } = parameter as Record<string, unknown>;
              expect(jsonType(name)).toBe('string');
              const kinds = Object.keys(value);
              expect([name, kinds.length]).toEqual([name, 1]);
              expect([name, jsonType(value[kinds[0]!])]).toEqual([name, PARAMETER_VALUES[kinds[0]!]]);
              if (kinds[0] === 'intValue') expect(value['intValue']).toMatch(/^-?\d+$/);
            }
          }
          activities++;
        }
        pageToken = res.data.nextPageToken ?? undefined;
        pages++;
      } while (pageToken && pages < 50);
      expect(pageToken).toBeUndefined();
    }
    expect(activities).toBeGreaterThan(7);
  });

  it('answers a start in its future with 400 and Google\'s error body shape', async () => {
    const future = new Date(emulators.sources.google.now() + 3_600_000).toISOString();
    const sample = fixture('google/error-400-start-time.json').response!;
    const err = await list({ applicationName: 'admin', startTime: future }).then(
      () => undefined,
      (e: unknown) => e as { response?: { status: number; data: Record<string, unknown> } },
    );
    expect(err?.response?.status).toBe(sample.status);
    const body = sample.body as { error: Record<string, unknown> };
    expect(shapeOf(err?.response?.data)).toEqual(shapeOf(body));
    const error = err!.response!.data['error'] as Record<string, unknown>;
    expectWithinSchema(error, shapeOf(body.error), 'error');
    expect(shapeOf((error['errors'] as unknown[])[0])).toEqual(shapeOf((body.error['errors'] as unknown[])[0]));
  });
});
