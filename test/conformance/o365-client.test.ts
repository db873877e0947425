import { describe, expect, it } from 'vitest';
import { DEFAULT_SIEM } from '../../src/core/siem.ts';
import { readBlob } from '../../src/sources/o365/client/fetch-blob.ts';
import { nextPageUri, parseContentPage } from '../../src/sources/o365/client/list-content.ts';
import { parseNotifications } from '../../src/sources/o365/client/list-notifications.ts';
import { parseSubscriptions } from '../../src/sources/o365/client/list-subscriptions.ts';
import { classifyApiResponse, parseApiError } from '../../src/sources/o365/errors.ts';
import type { RawResponse } from '../../src/sources/o365/http.ts';
import { mapO365Record } from '../../src/sources/o365/mapping/index.ts';
import { bodyText, type Fixture, fixture, lowerHeaders } from './fixtures.ts';

/**
 * The Office 365 client's pure parsers and classifier on Microsoft's own samples and the field
 * reports (test/fixtures/conformance/o365/). Where the daemon reads a sample differently from what
 * the vendor means, the check is left out and the disagreement is listed in
 * docs/api-notes.md#known-gaps instead (AF10001 as 401 is one).
 */

const NOW = Date.parse('2026-11-22T12:00:00Z');

function raw(f: Fixture): RawResponse {
  const r = f.response!;
  return { status: r.status, headers: lowerHeaders(r.headers), body: bodyText(f) };
}

const verdict = (name: string) => classifyApiResponse(raw(fixture(name)), NOW);

describe('Office 365 samples through the client', () => {
  it('reads the start, stop and webhook-less answers of the reference as success', () => {
    expect(verdict('o365/start-subscription.json')).toEqual({ kind: 'ok' });
    expect(verdict('o365/stop-subscription.json')).toEqual({ kind: 'ok' });
  });

  it('lists subscriptions from the reference and the guide, with a null webhook kept null', () => {
    const reference = parseSubscriptions(bodyText(fixture('o365/list-subscriptions.json')));
    expect(reference.map((s) => s.contentType)).toEqual(['Audit.SharePoint', 'Audit.Exchange']);
    expect(reference[0]).toMatchObject({ status: 'enabled', webhook: { status: 'enabled', address: 'https://webhook.myapp.com/o365/' } });
    expect(reference[1]!.webhook).toBeNull();

    const guide = parseSubscriptions(bodyText(fixture('o365/list-subscriptions-guide.json')));
    expect(guide).toEqual([
      { contentType: 'Audit.Exchange', status: 'enabled', webhook: null },
      { contentType: 'Audit.SharePoint', status: 'enabled', webhook: { authId: '', address: 'https://mvcwebapiwebhookreceiver.azurewebsites.net/' } },
    ]);
  });

  it('lists content items of every documented contentId shape as opaque ids, URIs untouched', () => {
    for (const name of ['o365/list-content.json', 'o365/list-content-guide.json', 'o365/receive-notification.json']) {
      const f = fixture(name);
      const body = (f.response!.body ?? f.request!.body) as Record<string, string>[];
      const items = parseContentPage(JSON.stringify(body));
      expect(items).toHaveLength(body.length);
      items.forEach((item, i) => {
        expect(item).toEqual({
          contentId: body[i]!['contentId'],
          contentUri: body[i]!['contentUri'],
          contentCreated: body[i]!['contentCreated'],
          contentExpiration: body[i]!['contentExpiration'],
        });
        expect(item.contentUri.endsWith(`/activity/feed/audit/${item.contentId}`)).toBe(true);
      });
    }
    const ids = ['o365/list-content.json', 'o365/list-content-guide.json'].map((n) => parseContentPage(bodyText(fixture(n)))[0]!.contentId);
    expect(ids[0]).toMatch(/\$04$/);
    expect(ids[1]).toMatch(/\$audit_sharepoint\$Audit_SharePoint$/);
  });

  it('follows NextPageUri as given and stops on a page without it; NextPageUrl (the guide) too', () => {
    const next = fixture('o365/list-content-next-page.json');
    expect(nextPageUri(lowerHeaders(next.response!.headers))).toBe(next.response!.headers['NextPageUri']);
    expect(nextPageUri(lowerHeaders(fixture('o365/list-content.json').response!.headers))).toBeUndefined();
    const url = 'https://manage.office.com/api/v1.0/t/activity/feed/subscriptions/content?contentType=Audit.SharePoint&nextPage=x';
    expect(nextPageUri(lowerHeaders({ NextPageUrl: url }))).toBe(url);
  });

  it('reads notification history with its status and send time', () => {
    const [n] = parseNotifications(bodyText(fixture('o365/list-notifications.json')));
    expect(n).toEqual({
      contentId: '492638008028$492638008028$f28ab78ad40140608012736e373933ebspo2015043022$4a81a7c326fc4aed89c62e6039ab833b$04',
      contentCreated: '2015-05-23T17:35:00.000Z',
      notificationStatus: 'success',
      notificationSent: '2015-05-23T17:36:00.000Z',
    });
  });

  it('reads the reference blob as its three records, in order, and maps each', async () => {
    const f = fixture('o365/retrieve-content.json');
    const records: unknown[] = [];
    for await (const batch of readBlob(raw(f), 2)) records.push(...batch);
    expect(records).toEqual(f.response!.body);

    const ctx = { tenantId: '41463f53-8812-40f4-890f-865bf6e35190', contentType: 'Audit.AzureActiveDirectory', observedUnixMs: NOW, siem: DEFAULT_SIEM };
    const mapped = records.map((r) => mapO365Record(r, ctx));
    // CreationTime is UTC without a Z.
    expect(mapped.map((m) => m.timeUnixMs)).toEqual(['2015-06-29T20:03:19Z', '2015-06-29T20:03:34Z', '2015-06-29T20:04:55Z'].map((t) => Date.parse(t)));
    // The reference writes ResultStatus in lower case ("failed", "success").
    expect(mapped.map((m) => m.attributes['event.outcome'])).toEqual(['failure', 'success', 'success']);
    expect(new Set(mapped.map((m) => m.uid)).size).toBe(3);
    // The record Id is a stable identity: the same record maps to the same uid.
    expect(mapO365Record(records[0], ctx).uid).toBe(mapped[0]!.uid);
  });

  it('reads the error body of the reference and every code of its table', () => {
    expect(parseApiError(bodyText(fixture('o365/error-body-example.json')))).toEqual({ code: 'AF50000', message: 'An internal server error occurred. Retry the request.' });
    expect(verdict('o365/error-body-example.json').kind).toBe('transient');
    for (const { code, message } of fixture('o365/error-codes.json').table!) {
      expect(parseApiError(JSON.stringify({ error: { code, message } }))).toEqual({ code, message });
    }
    expect(parseApiError(bodyText(fixture('o365/error-af10001-field.json'))).code).toBe('AF10001');
  });

  it('classifies the table codes by code (the reference gives no statuses: 400 assumed)', () => {
    const byCode = (code: string) => classifyApiResponse({ status: 400, headers: {}, body: JSON.stringify({ error: { code, message: 'm' } }) }, NOW).kind;
    const expected: Record<string, string> = {
      AF20001: 'bad-request',
      AF20002: 'bad-request',
      AF20003: 'bad-request',
      AF20010: 'config',
      AF20011: 'config',
      AF20012: 'config',
      AF20013: 'config',
      AF20020: 'config',
      AF20021: 'bad-request',
      AF20022: 'no-subscription',
      AF20023: 'subscription-disabled',
      AF20030: 'bad-window',
      AF20031: 'bad-next-page',
      AF20050: 'content-gone',
      AF20051: 'content-gone',
      AF20052: 'content-gone',
      AF20053: 'config',
      AF20054: 'config',
      AF50000: 'transient',
    };
    const table = fixture('o365/error-codes.json').table!.map((t) => t.code);
    for (const [code, kind] of Object.entries(expected)) {
      expect(table).toContain(code);
      expect([code, byCode(code)]).toEqual([code, kind]);
    }
    // Not in the table, seen in the field (Filebeat handles them): AF20055 like AF20030, AF50005/6 retried.
    expect(byCode('AF20055')).toBe('bad-window');
    expect(byCode('AF50005')).toBe('transient');
    expect(byCode('AF50006')).toBe('transient');
  });

  it('reads throttling, already-enabled and an unauthorised token as the guide and the field show them', () => {
    expect(verdict('o365/error-af429-guide.json')).toMatchObject({ kind: 'throttled', code: 'AF429' });
    expect(verdict('o365/error-af20024-field.json')).toEqual({ kind: 'already-enabled' });
    expect(verdict('o365/error-unauthorized-field.json')).toEqual({ kind: 'auth-expired' });
    expect(verdict('o365/error-no-times-field.json')).toMatchObject({ kind: 'bad-request', code: 'String reference not set to an instance of a String.\r\nParameter name' });
  });
});
