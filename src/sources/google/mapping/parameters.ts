/**
 * Reports API event parameters -> typed attribute values. A parameter carries one of `value`,
 * `intValue` (int64 as a string), `boolValue`, `multiValue`, `multiIntValue`, `multiBoolValue`,
 * `messageValue {parameter[]}` or `multiMessageValue [{parameter[]}]`.
 */
import type { AttributeBag } from '../../shared/mapping/attributes.ts';

type Json = Record<string, unknown>;

/** An int64 string as a number when it fits a double exactly, else the string itself (never rounded). */
export function int64(value: unknown): number | string | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string' || !/^-?\d+$/.test(value.trim())) return typeof value === 'string' ? value : undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : value.trim();
}

/** A boolValue as a boolean; some exports write it as the string "true" / "false". */
function bool(value: unknown): unknown {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return value;
}

function int64List(values: unknown[]): number[] | string[] {
  const converted = values.map(int64).filter((v) => v !== undefined);
  return converted.every((v) => typeof v === 'number') ? (converted as number[]) : converted.map(String);
}

function nested(message: unknown): Json[] {
  const list = (message as Json | null | undefined)?.['parameter'];
  return Array.isArray(list) ? (list as Json[]) : [];
}

/**
 * Sets one attribute per parameter under `prefix`: `prefix.<name>`; a message value becomes one
 * key per nested parameter (`prefix.<name>.<nested>`); a multi-message value one array per nested
 * parameter name, holding that parameter's value in each message (nested messages as JSON).
 */
export function setParameters(bag: AttributeBag, prefix: string, parameters: unknown): void {
  if (!Array.isArray(parameters)) return;
  for (const p of parameters as Json[]) {
    if (!p || typeof p !== 'object' || typeof p['name'] !== 'string') continue;
    const key = `${prefix}.${p['name']}`;
    if ('value' in p) bag.set(key, p['value']);
    else if ('intValue' in p) bag.set(key, int64(p['intValue']));
    else if ('boolValue' in p) bag.set(key, bool(p['boolValue']));
    else if (Array.isArray(p['multiValue'])) bag.set(key, p['multiValue']);
    else if (Array.isArray(p['multiIntValue'])) bag.set(key, int64List(p['multiIntValue']));
    else if (Array.isArray(p['multiBoolValue'])) bag.set(key, p['multiBoolValue']);
    else if (p['messageValue'] !== undefined) setParameters(bag, key, nested(p['messageValue']));
    else if (Array.isArray(p['multiMessageValue'])) setMultiMessage(bag, key, p['multiMessageValue']);
  }
}

function setMultiMessage(bag: AttributeBag, key: string, messages: unknown[]): void {
  const columns = new Map<string, unknown[]>();
  for (const message of messages) {
    for (const p of nested(message)) {
      if (!p || typeof p['name'] !== 'string') continue;
      const value =
        'value' in p ? p['value']
        : 'intValue' in p ? int64(p['intValue'])
        : 'boolValue' in p ? bool(p['boolValue'])
        : Array.isArray(p['multiValue']) ? JSON.stringify(p['multiValue'])
        : Array.isArray(p['multiIntValue']) ? JSON.stringify(int64List(p['multiIntValue']))
        : JSON.stringify(p['messageValue'] ?? p['multiMessageValue'] ?? p['multiBoolValue'] ?? null);
      const column = columns.get(p['name']) ?? [];
      column.push(value);
      columns.set(p['name'], column);
    }
  }
  for (const [name, column] of columns) bag.set(`${key}.${name}`, column);
}

/** The plain value of a parameter by name (value, intValue or boolValue), for outcome and severity rules. */
export function parameterValue(parameters: unknown, name: string): string | number | boolean | undefined {
  if (!Array.isArray(parameters)) return undefined;
  const p = (parameters as Json[]).find((q) => q && q['name'] === name);
  if (!p) return undefined;
  if (typeof p['value'] === 'string') return p['value'];
  const b = bool(p['boolValue']);
  if (typeof b === 'boolean') return b;
  const n = int64(p['intValue']);
  return n;
}

/** A parameter as one string: its `value`, or the first entry of a `multiValue` (a rule name can come as either). */
export function parameterText(parameters: unknown, name: string): string | undefined {
  const value = parameterValue(parameters, name);
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (!Array.isArray(parameters)) return undefined;
  const p = (parameters as Json[]).find((q) => q && q['name'] === name);
  const first = Array.isArray(p?.['multiValue']) ? (p['multiValue'] as unknown[])[0] : undefined;
  return typeof first === 'string' && first !== '' ? first : undefined;
}
