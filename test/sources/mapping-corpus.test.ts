/**
 * Cases found by running `auditrelay preview` over public corpora of real records (Elastic's
 * o365 and google_workspace test data, Microsoft's API reference). The records here are made up,
 * shaped like the ones that exposed each problem; the corpora themselves are not in the repository.
 */
import { describe, expect, it } from 'vitest';
import { preview } from '../../src/cli/commands/preview.ts';
import { DEFAULT_SIEM } from '../../src/config-kit/siem.ts';
import { mapGoogleActivity } from '../../src/sources/google/mapping/index.ts';
import { parseClientAddress } from '../../src/sources/shared/mapping/client-ip.ts';
import { mapO365Record } from '../../src/sources/o365/mapping/index.ts';

const ctx = { tenantId: 't', contentType: 'Audit.General', observedUnixMs: 0, siem: DEFAULT_SIEM };
const gctx = { customerId: 'C1', application: 'login', observedUnixMs: 0, siem: DEFAULT_SIEM };

describe('Office 365 IPs with an IPv6 zone index', () => {
  it.each([
    ['fe80::1c2:3ff:fe4d:5e6f%12', 'fe80::1c2:3ff:fe4d:5e6f', undefined],
    ['fe80::1%eth0', 'fe80::1', undefined],
    ['[fe80::1%eth0]:443', 'fe80::1', 443],
    ['2001:db8::7%25en0', '2001:db8::7', undefined],
  ])('%s keeps the address and drops the zone', (raw, address, port) => {
    expect(parseClientAddress(raw)).toEqual(port === undefined ? { address } : { address, port });
  });
  it('never writes a zone into client.address; the raw value keeps it', () => {
    const r = mapO365Record({ Id: 'z', CreationTime: '2024-05-14T07:42:19', RecordType: 2, ClientIPAddress: 'fe80::1%11' }, ctx);
    expect(r.attributes['client.address']).toBe('fe80::1');
    expect(r.attributes['o365.audit.ClientIPAddress']).toBe('fe80::1%11');
  });
  it('does not read a zone on an IPv4 address', () => {
    expect(parseClientAddress('192.0.2.1%eth0')).toBeUndefined();
  });
});

describe('Office 365 actor address', () => {
  const map = (UserId: string) => mapO365Record({ Id: 'u', CreationTime: '2024-05-14T07:42:19', UserId, UserKey: 'k' }, ctx).attributes;
  it('writes a UPN to user.email as well as user.name', () => {
    expect(map('megan.bowen@contoso.example')).toMatchObject({ 'user.name': 'megan.bowen@contoso.example', 'user.email': 'megan.bowen@contoso.example', 'user.id': 'k' });
  });
  it.each([['app@sharepoint'], ['NT AUTHORITY\\SYSTEM (Microsoft.Exchange.ServiceHost)'], ['DlpAgent'], ['S-1-5-18']])('keeps %s out of user.email', (userId) => {
    const a = map(userId);
    expect(a['user.name']).toBe(userId);
    expect(a['user.email']).toBeUndefined();
  });
});

describe('Office 365 DLP matches in SharePoint and OneDrive', () => {
  const dlp = {
    Id: 'd1',
    CreationTime: '2024-05-14T07:42:19',
    RecordType: 11,
    Operation: 'DLPRuleMatch',
    Workload: 'OneDrive',
    UserId: 'DlpPolicyEventBasedAssistantOneDriveForBusiness',
    ObjectId: '4c1e6f0a-2b3d-4e5f-8a9b-0c1d2e3f4a5b',
    PolicyDetails: [{ PolicyId: 'p', PolicyName: 'Finance', Rules: [{ RuleId: 'r', RuleName: 'Cards', Severity: 'High', Actions: ['BlockAccess'] }] }],
    SharePointMetaData: { FileName: 'cards.xlsx', FilePathUrl: 'https://contoso-my.sharepoint.example/personal/a/Documents/cards.xlsx', FileOwner: 'Alex' },
  };
  it('name the file and its URL from SharePointMetaData (ObjectId is a GUID)', () => {
    const a = mapO365Record(dlp, { ...ctx, contentType: 'DLP.All' }).attributes;
    expect(a['file.name']).toBe('cards.xlsx');
    expect(a['url.full']).toBe(dlp.SharePointMetaData.FilePathUrl);
    expect(a['file.path']).toBe(dlp.SharePointMetaData.FilePathUrl);
    expect(a['security_rule.name']).toBe('Cards');
  });
  it('are previewed under DLP.All whatever the case of the operation', async () => {
    const { json } = await preview(JSON.stringify(dlp), { source: 'o365', observedUnixMs: 0 });
    const attrs = JSON.parse(json).resourceLogs[0].scopeLogs[0].logRecords[0].attributes as { key: string; value: { stringValue?: string } }[];
    expect(attrs.find((kv) => kv.key === 'o365.content_type')?.value.stringValue).toBe('DLP.All');
  });
  it('leave a SharePoint file operation as it was', () => {
    const a = mapO365Record(
      { Id: 'f', CreationTime: '2024-05-14T07:42:19', RecordType: 6, ObjectId: 'https://x.example/Docs/a.docx', SourceFileName: 'a.docx', SourceRelativeUrl: 'Docs', SharePointMetaData: { FileName: 'other' } },
      ctx,
    ).attributes;
    expect(a['file.name']).toBe('a.docx');
    expect(a['url.full']).toBe('https://x.example/Docs/a.docx');
  });
});

describe('Google activities already split per event', () => {
  // Elastic's input, and exports built on it, store one event per document with `events` as an object.
  const split = (name: string, parameters: unknown[]) => ({
    kind: 'admin#reports#activity',
    id: { time: '2020-10-02T15:00:00Z', uniqueQualifier: 1, applicationName: 'drive', customerId: '1' },
    actor: { callerType: 'USER', email: 'foo@example.com', profileId: 1 },
    ipAddress: '192.0.2.7',
    events: { type: 'access', name, parameters },
  });
  it('map as their one event, with the body unchanged', () => {
    const activity = split('edit', [{ name: 'doc_title', value: 'plan.docx' }]);
    const records = mapGoogleActivity(activity, gctx);
    expect(records).toHaveLength(1);
    expect(records[0]?.body).toEqual(activity);
    expect(records[0]?.attributes).toMatchObject({ 'google_workspace.event.name': 'edit', 'google_workspace.drive.doc_title': 'plan.docx', 'client.address': '192.0.2.7' });
  });
  it('read numeric ids as the strings the API sends', () => {
    const a = mapGoogleActivity(split('view', []), gctx)[0]?.attributes;
    expect(a?.['user.id']).toBe('1');
    expect(a?.['user.email']).toBe('foo@example.com');
  });
  it('give sibling events of one activity distinct, stable uids', () => {
    const one = split('edit', [{ name: 'doc_id', value: 'a' }]);
    const two = split('edit', [{ name: 'doc_id', value: 'b' }]);
    const uid = (x: unknown) => mapGoogleActivity(x, gctx)[0]?.uid;
    expect(uid(one)).not.toBe(uid(two));
    expect(uid(one)).toBe(uid(structuredClone(one)));
  });
  it('give an activity from the API the same uids as before', () => {
    const api = { ...split('edit', []), id: { time: '2020-10-02T15:00:00Z', uniqueQualifier: '1', applicationName: 'drive', customerId: '1' } };
    const listed = { ...api, events: [api.events] };
    const numeric = { ...listed, id: { ...listed.id, uniqueQualifier: 1 } };
    expect(mapGoogleActivity(numeric, gctx)[0]?.uid).toBe(mapGoogleActivity(listed, gctx)[0]?.uid);
  });
});

describe('Google parameters as other tools write them', () => {
  const activity = (application: string, name: string, parameters: unknown[]) => ({
    id: { time: '2020-10-02T15:00:00Z', uniqueQualifier: '7', applicationName: application, customerId: 'C1' },
    actor: { email: 'foo@example.com', profileId: '42' },
    events: [{ name, parameters }],
  });
  it('read a boolValue written as a string as a boolean', () => {
    const r = mapGoogleActivity(activity('login', 'login_success', [{ name: 'is_suspicious', boolValue: 'true' }]), gctx)[0];
    expect(r?.attributes['google_workspace.login.is_suspicious']).toBe(true);
    expect(r?.severityText).toBe('WARN');
  });
  it('name the rule of a rules event whose rule_name is a multiValue', () => {
    const a = mapGoogleActivity(activity('rules', 'rule_match', [{ name: 'rule_name', multiValue: ['managers'] }, { name: 'rule_id', multiIntValue: ['12'] }]), gctx)[0]?.attributes;
    expect(a?.['security_rule.name']).toBe('managers');
    expect(a?.['google_workspace.rules.rule_id']).toEqual([12]);
  });
  it('write a Drive document title to file.name', () => {
    const a = mapGoogleActivity(activity('drive', 'download', [{ name: 'doc_title', value: 'Q3 plan' }, { name: 'doc_id', value: 'x' }]), gctx)[0]?.attributes;
    expect(a?.['file.name']).toBe('Q3 plan');
  });
  it.each([
    ['Challenge Passed.', 'success'],
    ['passed', 'success'],
    ['Challenge Failed', 'failure'],
  ])('reads a login_challenge with status %s as a %s', (status, outcome) => {
    const a = mapGoogleActivity(activity('login', 'login_challenge', [{ name: 'login_challenge_status', value: status }]), gctx)[0]?.attributes;
    expect(a?.['event.outcome']).toBe(outcome);
  });
});
