import type { AttributeBag } from './attributes.ts';

/** Deeper than this, a value becomes one JSON string attribute (the body has it whole). */
const MAX_DEPTH = 4;

type Json = Record<string, unknown>;

/** A JSON object (not null, not an array): the test every mapping makes before reading fields. */
export function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `Name` (or `Key`) when every entry of a list has a distinct string one, e.g. ExtendedProperties. */
function nameKey(list: Json[]): 'Name' | 'Key' | undefined {
  for (const key of ['Name', 'Key'] as const) {
    const names = list.map((entry) => entry[key]);
    if (names.every((n) => typeof n === 'string' && n !== '') && new Set(names).size === names.length) return key;
  }
  return undefined;
}

/**
 * Adds a raw value under `key` as flat dotted attributes, with the API's own field names:
 * objects become dotted keys; name/value lists (`ExtendedProperties`, `Parameters`,
 * `ModifiedProperties`, `DeviceProperties`, `ExtraProperties`...) become one key per name
 * (`…Parameters.ForwardTo`, `…ModifiedProperties.Role.NewValue`), so the cmdlet parameter or
 * property analysts look for is a field of its own; other lists of objects become one array per
 * member (`…Members.UPN` = every member's UPN), so each stays queryable.
 */
export function flattenRaw(bag: AttributeBag, key: string, value: unknown, depth = 0): void {
  if (value === null || value === undefined) return;
  if (depth > MAX_DEPTH && typeof value === 'object') {
    bag.extra(key, JSON.stringify(value));
    return;
  }
  if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) flattenRaw(bag, `${key}.${k}`, v, depth + 1);
    return;
  }
  if (!Array.isArray(value)) {
    bag.extra(key, value);
    return;
  }
  if (value.length === 0) return; // nothing to search on; the body keeps the empty list
  if (!value.every(isObject)) {
    // Scalars (or a mix): one homogeneous array; objects inside a mix become JSON strings.
    bag.extra(key, value);
    return;
  }
  const entries = value as Json[];
  const named = nameKey(entries);
  if (named) {
    for (const entry of entries) {
      const { [named]: name, ...rest } = entry;
      const members = Object.keys(rest);
      const path = `${key}.${name as string}`;
      if (members.length === 1 && members[0] === 'Value') flattenRaw(bag, path, rest['Value'], depth + 1);
      else flattenRaw(bag, path, rest, depth + 1);
    }
    return;
  }
  const columns = new Map<string, unknown[]>();
  for (const entry of entries) {
    for (const [k, v] of Object.entries(entry)) {
      if (v === null || v === undefined) continue;
      let column = columns.get(k);
      if (!column) {
        column = [];
        columns.set(k, column);
      }
      column.push(typeof v === 'object' ? JSON.stringify(v) : v);
    }
  }
  for (const [k, column] of columns) bag.extra(`${key}.${k}`, column);
}
