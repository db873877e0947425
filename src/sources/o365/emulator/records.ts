import type { ContentType } from '../config.ts';
import { Random, seedWords } from './random.ts';

/**
 * Audit records in the Office 365 common schema (docs/api-notes.md#o365-records) plus a few
 * workload-specific fields per content type: enough variety that the mapping meets the awkward
 * cases (ClientIP with a port or `[v6]:port` or empty, Exchange admin's True/False ResultStatus,
 * ExtendedProperties name/value arrays, Actor/Target arrays, DLP PolicyDetails).
 */
export type O365Record = Record<string, unknown>;

export interface RecordKey {
  seed: number;
  /** Global sequence number of the blob the record was first written to. */
  blobSeq: number;
  index: number;
}

export interface RecordContext extends RecordKey {
  tenantId: string;
  contentType: ContentType;
  /** The blob's contentCreated: every event happened before it. */
  createdMs: number;
  /** Events in a blob happened up to this long before the blob was created. */
  maxEventAgeMs: number;
}

// One SHA-256 per blob, then a cheap per-record derivation; the last blob's words are cached
// because records are generated blob by blob.
let cachedBlob = '';
let cachedWords: [number, number, number, number] = [0, 0, 0, 0];

function randomFor(key: RecordKey): Random {
  const blobKey = `${key.seed}:record:${key.blobSeq}`;
  if (blobKey !== cachedBlob) {
    cachedWords = seedWords(blobKey);
    cachedBlob = blobKey;
  }
  return Random.child(cachedWords, key.index);
}

/** The record's `Id`, without building the record (the truth registry lists a million of these). */
export function recordId(key: RecordKey): string {
  return randomFor(key).guid();
}

const USERS = Array.from({ length: 40 }, (_, i) => `user${String(i + 1).padStart(2, '0')}@contoso.onmicrosoft.com`);
const CLIENT_IPS = ['203.0.113.17', '198.51.100.4:52144', '[2001:db8::8a2e:370:7334]:443', '2001:db8:85a3::8a2e:370:7334', '192.0.2.200', ''];
const USER_AGENTS = ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) Edge/120.0', 'Microsoft Office/16.0 (Windows NT 10.0)', 'OneDriveMpc-Transform_Thumbnail/1.0'];

export function generateRecord(ctx: RecordContext): O365Record {
  const rnd = randomFor(ctx);
  const id = rnd.guid(); // first draw: must stay equal to recordId()
  const user = rnd.pick(USERS);
  const userIndex = USERS.indexOf(user);
  const eventMs = ctx.createdMs - rnd.int(0, ctx.maxEventAgeMs);
  const common: O365Record = {
    Id: id,
    CreationTime: formatCreationTime(eventMs),
    OrganizationId: ctx.tenantId,
    UserKey: `10032000${(0x1a2b3c4d + userIndex).toString(16).toUpperCase()}`,
    UserType: rnd.chance(0.9) ? 0 : rnd.pick([2, 4, 5]),
    UserId: user,
    // null sometimes: the schema says ClientIP may be empty or absent.
    ClientIP: rnd.chance(0.05) ? null : rnd.pick(CLIENT_IPS),
  };
  switch (ctx.contentType) {
    case 'Audit.AzureActiveDirectory':
      return azureActiveDirectory(rnd, common, ctx);
    case 'Audit.Exchange':
      return exchange(rnd, common, ctx);
    case 'Audit.SharePoint':
      return sharePoint(rnd, common);
    case 'Audit.General':
      return general(rnd, common);
    case 'DLP.All':
      return dlp(rnd, common);
  }
}

function azureActiveDirectory(rnd: Random, common: O365Record, ctx: RecordContext): O365Record {
  const logon = rnd.chance(0.7);
  const failed = logon && rnd.chance(0.15);
  const ip = rnd.pick(['203.0.113.17', '198.51.100.4', '2001:db8::1']);
  const base = {
    ...common,
    RecordType: logon ? 15 : 8,
    Workload: 'AzureActiveDirectory',
    Operation: logon ? (failed ? 'UserLoginFailed' : 'UserLoggedIn') : rnd.pick(['Add user.', 'Update user.', 'Add member to group.', 'Reset user password.']),
    ResultStatus: failed ? 'Failed' : 'Success',
    ObjectId: logon ? '00000003-0000-0ff1-ce00-000000000000' : rnd.pick(['user05@contoso.onmicrosoft.com', 'Sales Team']),
    AzureActiveDirectoryEventType: logon ? 1 : 0,
    ActorIpAddress: ip,
    ActorContextId: ctx.tenantId,
    Actor: [
      { ID: common['UserId'], Type: 5 },
      { ID: rnd.guid(), Type: 0 },
    ],
    Target: [{ ID: rnd.guid(), Type: 0 }],
    ExtendedProperties: [
      { Name: 'UserAgent', Value: rnd.pick(USER_AGENTS) },
      { Name: 'RequestType', Value: 'OAuth2:Token' },
      { Name: 'ResultStatusDetail', Value: failed ? 'Redirect' : 'Success' },
    ],
    ApplicationId: rnd.guid(),
  };
  return failed ? { ...base, LogonError: 'InvalidUserNameOrPassword', ErrorNumber: '50126' } : base;
}

function exchange(rnd: Random, common: O365Record, ctx: RecordContext): O365Record {
  if (rnd.chance(0.3)) {
    // Exchange admin (cmdlet) records: ResultStatus is "True"/"False", not Succeeded/Failed.
    const cmdlet = rnd.pick(['Set-Mailbox', 'New-InboxRule', 'Add-MailboxPermission', 'Set-TransportRule']);
    return {
      ...common,
      RecordType: 1,
      Workload: 'Exchange',
      Operation: cmdlet,
      ResultStatus: rnd.chance(0.95) ? 'True' : 'False',
      ObjectId: `EURPR01A001.prod.outlook.com/Microsoft Exchange Hosted Organizations/contoso.onmicrosoft.com/${common['UserId']}`,
      ExternalAccess: rnd.chance(0.1),
      OrganizationName: 'contoso.onmicrosoft.com',
      OriginatingServer: 'AM0PR01MB0001 (15.20.7000.000)',
      Parameters: [
        { Name: 'Identity', Value: String(common['UserId']) },
        { Name: 'ForwardingSmtpAddress', Value: rnd.chance(0.5) ? 'smtp:someone@example.com' : '' },
      ],
    };
  }
  const clientIp = rnd.pick(['203.0.113.17', '[2001:db8::1]:5034', '198.51.100.4']);
  return {
    ...common,
    RecordType: rnd.pick([2, 50]),
    Workload: 'Exchange',
    Operation: rnd.pick(['MailItemsAccessed', 'Send', 'SoftDelete', 'Update', 'MoveToDeletedItems']),
    ResultStatus: 'Succeeded',
    ObjectId: '',
    ClientIPAddress: clientIp,
    ClientInfoString: 'Client=OWA;Mozilla/5.0',
    ExternalAccess: false,
    InternalLogonType: 0,
    LogonType: rnd.pick([0, 1, 2]),
    LogonUserSid: `S-1-5-21-${rnd.uint32()}-${rnd.uint32()}-1001`,
    MailboxGuid: rnd.guid(),
    MailboxOwnerUPN: common['UserId'],
    OrganizationName: 'contoso.onmicrosoft.com',
    Item: { Id: `RgAAAA${rnd.uint32().toString(36)}`, Subject: rnd.pick(['Quarterly report', 'Re: lunch', 'Invoice 4411']), ParentFolder: { Path: '\\Inbox' } },
    TenantTime: formatCreationTime(ctx.createdMs),
  };
}

function sharePoint(rnd: Random, common: O365Record): O365Record {
  const oneDrive = rnd.chance(0.3);
  const sharing = rnd.chance(0.15);
  const site = oneDrive ? 'https://contoso-my.sharepoint.com/personal/user01_contoso_onmicrosoft_com/' : 'https://contoso.sharepoint.com/sites/Finance/';
  const file = rnd.pick(['Budget 2025.xlsx', 'Roadmap.pptx', 'notes.txt', 'contract (1).docx']);
  return {
    ...common,
    RecordType: sharing ? 14 : 6,
    Workload: oneDrive ? 'OneDrive' : 'SharePoint',
    Operation: sharing ? rnd.pick(['SharingSet', 'AnonymousLinkCreated', 'SharingInvitationCreated']) : rnd.pick(['FileAccessed', 'FileModified', 'FileDownloaded', 'FileUploaded', 'FileDeleted']),
    ObjectId: `${site}Shared Documents/${file}`,
    Site: rnd.guid(),
    SiteUrl: site,
    WebId: rnd.guid(),
    ItemType: 'File',
    ListItemUniqueId: rnd.guid(),
    SourceFileName: file,
    SourceFileExtension: file.split('.').pop(),
    SourceRelativeUrl: 'Shared Documents',
    EventSource: 'SharePoint',
    UserAgent: rnd.pick(USER_AGENTS),
    ...(sharing ? { TargetUserOrGroupName: 'guest@example.com', TargetUserOrGroupType: 'Guest' } : {}),
  };
}

function general(rnd: Random, common: O365Record): O365Record {
  const kind = rnd.int(0, 2);
  if (kind === 0) {
    return {
      ...common,
      RecordType: 25,
      Workload: 'MicrosoftTeams',
      Operation: rnd.pick(['MemberAdded', 'TeamCreated', 'ChannelAdded', 'MeetingDetail']),
      ObjectId: '',
      TeamName: rnd.pick(['Finance', 'Engineering', 'All Company']),
      TeamGuid: `19:${rnd.uint32().toString(16)}@thread.tacv2`,
      Members: [{ UPN: 'user07@contoso.onmicrosoft.com', Role: 1, DisplayName: 'User Seven' }],
      CommunicationType: 'Team',
    };
  }
  if (kind === 1) {
    return {
      ...common,
      RecordType: 20,
      Workload: 'PowerBI',
      Operation: rnd.pick(['ViewReport', 'ExportReport', 'ViewDashboard']),
      ObjectId: rnd.pick(['Sales Overview', 'Pipeline']),
      Activity: 'ViewReport',
      ItemName: 'Sales Overview',
      WorkSpaceName: 'Sales',
      DatasetName: 'Sales',
      ReportName: 'Sales Overview',
      IsSuccess: true,
      RequestId: rnd.guid(),
      ActivityId: rnd.guid(),
    };
  }
  return {
    ...common,
    RecordType: 66,
    Workload: 'MicrosoftForms',
    Operation: rnd.pick(['CreateForm', 'ViewResponses', 'EditForm']),
    ObjectId: rnd.guid(),
    FormId: rnd.guid(),
    FormName: 'Team survey',
    FormsUserType: 0,
    SourceApp: 'Microsoft Forms',
  };
}

function dlp(rnd: Random, common: O365Record): O365Record {
  const exchangeSide = rnd.chance(0.5);
  const sensitiveType = rnd.pick(SENSITIVE_TYPES);
  return {
    ...common,
    RecordType: exchangeSide ? 13 : 11,
    Workload: exchangeSide ? 'Exchange' : 'SharePoint',
    Operation: 'DlpRuleMatch',
    ObjectId: exchangeSide ? `<${rnd.uint32().toString(16)}@contoso.onmicrosoft.com>` : 'https://contoso.sharepoint.com/sites/Finance/Shared Documents/cards.xlsx',
    IncidentId: rnd.guid(),
    SensitiveInfoDetectionIsIncluded: false,
    PolicyDetails: [
      {
        PolicyId: rnd.guid(),
        PolicyName: 'U.S. Financial Data',
        Rules: [
          {
            RuleId: rnd.guid(),
            RuleName: 'Low volume of content detected U.S. Financial',
            Actions: ['NotifyUser'],
            Severity: rnd.pick(['Low', 'Medium', 'High']),
            ConditionsMatched: { SensitiveInformation: [{ SensitiveType: sensitiveType.id, Count: rnd.int(1, 12), Confidence: 85 }] },
          },
        ],
      },
    ],
    ...(exchangeSide
      ? { ExchangeMetaData: { MessageID: `<${rnd.uint32()}@contoso.onmicrosoft.com>`, From: common['UserId'], To: ['someone@example.com'], Subject: 'Card numbers', Sent: common['CreationTime'] } }
      : { SharePointMetaData: { From: common['UserId'], FileName: 'cards.xlsx', FilePathUrl: 'https://contoso.sharepoint.com/sites/Finance/Shared Documents/cards.xlsx' } }),
  };
}

/** Served by `resources/dlpSensitiveTypes`, referenced by DLP records. */
export const SENSITIVE_TYPES = [
  { id: '50842eb7-edc8-4019-85dd-5a5c1f2bb085', name: 'Credit Card Number' },
  { id: 'a44669fe-0d48-453d-a9b1-2cc83f2cba77', name: 'U.S. Social Security Number (SSN)' },
  { id: 'e55e2a32-f92d-4985-a35d-a0b269eb687b', name: 'International Banking Account Number (IBAN)' },
  { id: 'cb353f78-2b72-4c3c-8827-92ebe4f69fdf', name: 'ABA Routing Number' },
] as const;

/** `CreationTime` as Office 365 writes it: UTC, seconds, no trailing Z. */
export function formatCreationTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}
