/**
 * Office 365 `UserType` numbers by name: the "User Type" enum of Microsoft's
 * "Office 365 Management Activity API schema" reference.
 */
export const USER_TYPES: Readonly<Record<number, string>> = {
  0: 'Regular',
  1: 'Reserved',
  2: 'Admin',
  3: 'DcAdmin',
  4: 'System',
  5: 'Application',
  6: 'ServicePrincipal',
  7: 'CustomPolicy',
  8: 'SystemPolicy',
};

/** The member name, or `UserType<N>` for a number the reference does not list (newer values exist). */
export function userTypeName(value: number): string {
  return USER_TYPES[value] ?? `UserType${value}`;
}
