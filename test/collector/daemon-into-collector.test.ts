import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonConfig, startInProcess, startWorld, type World } from '../support/harness.ts';
import { COLLECTOR_BUILD_TIMEOUT_MS, ensureCollector, type StartedCollector, startCollector } from './collector.ts';

/**
 * The daemon against the emulators into the real OpenTelemetry Collector (built with ocb),
 * checking what the Collector's file exporter wrote: every record, with the attributes SIEMs use.
 */
let world: World;
let collector: StartedCollector;

beforeAll(() => ensureCollector(), COLLECTOR_BUILD_TIMEOUT_MS);
afterAll(async () => {
  await collector?.stop();
  await world?.close();
});

describe('auditrelay into the real OpenTelemetry Collector', () => {
  it('delivers every record of both sources, and the Collector keeps uid, event name, timestamps, resource and raw body', async () => {
    world = await startWorld({ o365: { backlog: '1h', backlogRecords: 400, blobInterval: 0 } });
    collector = await startCollector(world.dir);
    const daemon = await startInProcess(daemonConfig(world, (c) => (c.export.endpoint = collector.endpoint)));
    try {
      // The Collector is the endpoint here: read back what its file exporter wrote.
      const snapshot = world.emulators.truth();
      const records = await collector.waitForRecords(snapshot.length);
      const byUid = new Map(records.map((r) => [String(r.attributes['log.record.uid']), r]));
      expect(snapshot.filter((uid) => !byUid.has(uid))).toEqual([]);

      const o365 = records.find((r) => r.resource['auditrelay.source'] === 'o365')!;
      const body = o365.body as Record<string, unknown>;
      expect(o365.attributes['log.record.uid']).toBe(body['Id']);
      expect(o365.timeUnixMs).toBe(Date.parse(`${String(body['CreationTime'])}Z`));
      expect(o365.eventName).toMatch(/^o365\./);
      expect(o365.resource['service.name']).toBe('auditrelay');
      expect(o365.attributes['elasticsearch.document_id']).toBe(body['Id']);
      expect(o365.attributes['com.splunk.sourcetype']).toBeDefined();

      const google = records.find((r) => r.resource['auditrelay.source'] === 'google_workspace')!;
      expect(google.eventName).toMatch(/^google_workspace\./);
      expect((google.body as { events: unknown[] }).events).toHaveLength(1);
    } finally {
      await daemon.stop(10_000);
    }
  });
});
