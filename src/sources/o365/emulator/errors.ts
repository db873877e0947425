/**
 * Management Activity API errors, with the messages of Microsoft's error table (the reference's
 * "Errors" section; AF20024 and AF20055 as seen in the field). Body shape `{"error":{"code","message"}}`.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly headers: Record<string, string>;

  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }

  body(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

export const NO_PUBLISHER = '00000000-0000-0000-0000-000000000000';

export const apiErrors = {
  missingPermission: (permissions: string) =>
    new ApiError(403, 'AF10001', `The permission set (${permissions}) sent in the request did not include the expected permission ActivityFeed.Read.`),
  missingParameter: (name: string) => new ApiError(400, 'AF20001', `Missing parameter: ${name}.`),
  invalidParameterType: (name: string, expected: string) => new ApiError(400, 'AF20002', `Invalid parameter type: ${name}. Expected type: ${expected}`),
  tenantMismatch: (urlTenant: string, tokenTenant: string) =>
    new ApiError(403, 'AF20010', `The tenant ID passed in the URL (${urlTenant}) does not match the tenant ID passed in the access token (${tokenTenant}).`),
  tenantMissing: (tenant: string) => new ApiError(400, 'AF20011', `Specified tenant ID (${tenant}) does not exist in the system or has been deleted.`),
  tenantNotGuid: (tenant: string) => new ApiError(400, 'AF20013', `The tenant ID passed in the URL (${tenant}) is not a valid GUID.`),
  invalidContentType: () => new ApiError(400, 'AF20020', 'The specified content type is not valid.'),
  noSubscription: () => new ApiError(400, 'AF20022', 'No subscription found for the specified content type.'),
  subscriptionDisabled: () => new ApiError(400, 'AF20023', 'The subscription was disabled by a tenant admin.'),
  alreadyEnabled: () => new ApiError(400, 'AF20024', 'The subscription is already enabled. No property change.'),
  windowParameters: () =>
    new ApiError(
      400,
      'AF20030',
      'Start time and end time must both be specified (or both omitted) and must be less than or equal to 24 hours apart, with the start time no more than 7 days in the past.',
    ),
  windowRange: (start: string, end: string) =>
    new ApiError(
      400,
      'AF20055',
      `Start time and end time must both be specified (or both omitted) and must be less than or equal to 24 hours apart, with the start time prior to end time and start time no more than 7 days in the past. StartTime:${start}, EndTime:${end}`,
    ),
  invalidNextPage: (value: string) => new ApiError(400, 'AF20031', `Invalid nextPage Input: ${value}.`),
  contentMissing: (id: string) => new ApiError(400, 'AF20050', `The specified content (${id}) does not exist.`),
  contentExpired: (id: string) =>
    new ApiError(400, 'AF20051', `Content requested with the key ${id} has already expired. Content older than 7 days cannot be retrieved.`),
  contentIdInvalid: (id: string) => new ApiError(400, 'AF20052', `Content ID ${id} in the URL is invalid.`),
  oneLanguageOnly: () => new ApiError(400, 'AF20053', 'Only one language may be present in the Accept-Language header.'),
  badLanguage: () => new ApiError(400, 'AF20054', 'Invalid syntax in Accept-Language header.'),
  /** Throttling: the field sees both HTTP 403 and 429 for AF429. */
  tooManyRequests: (method: string, publisherId: string, status: 403 | 429 = 403, headers: Record<string, string> = {}, suffix = '') =>
    new ApiError(status, 'AF429', `Too many requests. Method=${method}, PublisherId=${publisherId}${suffix}`, headers),
  internal: () => new ApiError(500, 'AF50000', 'An internal error occurred. Retry the request.'),
};
