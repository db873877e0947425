/**
 * Reads an ISO 8601 date-time as the audit APIs write it, to Unix epoch milliseconds.
 * Some write UTC without a zone (`2024-05-01T10:00:00`), sometimes with up to seven fractional
 * digits; others RFC 3339 with `Z`. A time without a
 * zone is read as UTC whatever the local zone; an explicit zone is honoured. Throws an Error
 * naming `field` for anything else, including impossible dates (2024-02-30).
 */
export function parseUtcDateTime(value: unknown, field: string): number {
  if (typeof value !== 'string') {
    throw new Error(`${field} is ${value === undefined ? 'missing' : `not a string (${JSON.stringify(value)})`}`);
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:?\d{2})?$/i.exec(value.trim());
  if (!m) throw new Error(`${field} "${value}" is not an ISO 8601 date-time`);
  const [, y, mo, d, h, mi, s = '0', frac = '', zone] = m;
  const fields = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)] as const;
  let t = Date.UTC(...fields, Number(frac.slice(0, 3).padEnd(3, '0')));
  const check = new Date(t);
  const back = [check.getUTCFullYear(), check.getUTCMonth(), check.getUTCDate(), check.getUTCHours(), check.getUTCMinutes(), check.getUTCSeconds()];
  if (back.some((v, i) => v !== fields[i])) throw new Error(`${field} "${value}" is not a valid date-time`);
  if (zone && zone.toUpperCase() !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone) as RegExpExecArray;
    t -= (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3])) * 60_000;
  }
  return t;
}
