/**
 * Properties every mapped record must have, over every fixture (the checks the reviewer runs on
 * public corpora): IPs valid and port-free in client.address, UTC timestamps, actors in user.*,
 * unique uids, body equal to the input, attributes OTLP can carry.
 */
import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ATTRIBUTE_LIMIT } from '../../src/sources/shared/mapping/attributes.ts';
import type { AuditRecord } from '../../src/core/record.ts';
import { parseClientAddress } from '../../src/sources/shared/mapping/client-ip.ts';
import { fixtureNames, loadFixture, mapFixture } from './mapping-fixtures.ts';

type Json = Record<string, unknown>;

const o365 = fixtureNames('o365').map((name) => ({ raws: loadFixture('o365', name) as Json[], records: mapFixture('o365', name) }));
const google = fixtureNames('google').map((name) => ({ raws: loadFixture('google', name) as Json[], records: mapFixture('google', name) }));
const all: AuditRecord[] = [...o365, ...google].flatMap((f) => f.records);

describe('mapped records', () => {
  it('cover every fixture record and event', () => {
    expect(o365.reduce((n, f) => n + f.records.length, 0)).toBe(o365.reduce((n, f) => n + f.raws.length, 0));
    const events = google.reduce((n, f) => n + f.raws.reduce((m, a) => m + (a['events'] as unknown[]).length, 0), 0);
    expect(google.reduce((n, f) => n + f.records.length, 0)).toBe(events);
    expect(all.length).toBe(37);
  });

  it('put only valid IP addresses without a port in client.address', () => {
    for (const r of all) {
      const address = r.attributes['client.address'];
      if (address === undefined) continue;
      expect(typeof address).toBe('string');
      expect(isIP(address as string), `${r.uid}: ${String(address)}`).not.toBe(0);
      expect(address, 'no brackets, zone or IPv4-mapped prefix').not.toMatch(/[[\]%]|^::ffff:\d/i);
    }
  });

  it('find the client IP of every Office 365 record that has one', () => {
    for (const { raws, records } of o365) {
      raws.forEach((raw, i) => {
        const expected = ['ClientIP', 'ClientIPAddress', 'ActorIpAddress'].map((f) => parseClientAddress(raw[f])).find(Boolean);
        expect(records[i]?.attributes['client.address']).toBe(expected?.address);
      });
    }
    const found = all.filter((r) => r.attributes['client.address'] !== undefined).length;
    expect(found).toBeGreaterThan(25);
  });

  it('read Office 365 CreationTime (no zone) as UTC and Google id.time exactly', () => {
    for (const { raws, records } of o365) {
      raws.forEach((raw, i) => {
        const iso = new Date(records[i]!.timeUnixMs).toISOString();
        expect(iso.slice(0, 19)).toBe(String(raw['CreationTime']).slice(0, 19));
      });
    }
    for (const { raws, records } of google) {
      const times = raws.flatMap((a) => (a['events'] as unknown[]).map(() => (a['id'] as Json)['time']));
      expect(records.map((r) => new Date(r.timeUnixMs).toISOString())).toEqual(times);
    }
  });

  it('put every actor in user.*', () => {
    for (const { raws, records } of o365) expect(records.map((r) => r.attributes['user.name'])).toEqual(raws.map((raw) => raw['UserId']));
    for (const { raws, records } of google) {
      const emails = raws.flatMap((a) => (a['events'] as unknown[]).map(() => (a['actor'] as Json)['email']));
      expect(records.map((r) => r.attributes['user.email'])).toEqual(emails);
    }
  });

  it('have unique uids, equal to Elasticsearch document ids', () => {
    // The O365 edge-case fixture reuses no Id; two fixtures sharing one would be a duplicate on purpose.
    expect(new Set(all.map((r) => r.uid)).size).toBe(all.length);
    for (const r of all) expect(r.attributes['elasticsearch.document_id']).toBe(r.uid);
  });

  it('keep the raw record as the body (Google: the activity holding only its event)', () => {
    for (const { raws, records } of o365) expect(records.map((r) => r.body)).toEqual(raws);
    for (const { raws, records } of google) {
      const bodies = raws.flatMap((a) => (a['events'] as unknown[]).map((e) => ({ ...a, events: [e] })));
      expect(records.map((r) => r.body)).toEqual(bodies);
    }
  });

  it('carry only OTLP-valid, flat, homogeneous attributes within the count limit', () => {
    for (const r of all) {
      expect(Object.keys(r.attributes).length).toBeLessThanOrEqual(ATTRIBUTE_LIMIT - 1);
      for (const [key, value] of Object.entries(r.attributes)) {
        if (Array.isArray(value)) {
          expect(new Set(value.map((v) => typeof v)).size, key).toBeLessThanOrEqual(1);
          for (const v of value) expect(['string', 'number', 'boolean'], key).toContain(typeof v);
        } else {
          expect(['string', 'number', 'boolean'], key).toContain(typeof value);
          if (typeof value === 'number') expect(Number.isFinite(value)).toBe(true);
        }
      }
      expect(r.eventName).toMatch(/^(o365|google_workspace)\.[A-Za-z0-9_.]+$/);
      expect([9, 13, 17]).toContain(r.severityNumber);
    }
  });

  it('make failures stand out: outcome failure, error.type and at least WARN', () => {
    const failures = all.filter((r) => r.attributes['event.outcome'] === 'failure');
    expect(failures.length).toBeGreaterThanOrEqual(5);
    for (const r of failures) {
      expect(r.attributes['error.type'], r.uid).toBeTruthy();
      expect(r.severityNumber).toBeGreaterThanOrEqual(13);
    }
  });
});
