import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The envelope every file in test/fixtures/conformance/ has (see its README). */
export interface Fixture {
  origin: { document: string; section: string; url: string; copy?: string; kind: 'doc' | 'field' };
  known: string[];
  assumed: string[];
  edits: string[];
  request?: { method: string; url: string; headers: Record<string, string>; body?: unknown; bodyText?: string };
  response?: { status: number; headers: Record<string, string>; body?: unknown; bodyText?: string };
  table?: { code: string; message: string }[];
}

export const FIXTURE_DIR = new URL('../fixtures/conformance/', import.meta.url).pathname;

export function fixture(name: string): Fixture {
  return JSON.parse(readFileSync(join(FIXTURE_DIR, name), 'utf8')) as Fixture;
}

/** Every fixture file, as `o365/list-content.json`. */
export function fixtureNames(): string[] {
  return ['o365', 'google'].flatMap((dir) =>
    readdirSync(join(FIXTURE_DIR, dir))
      .filter((f) => f.endsWith('.json'))
      .map((f) => `${dir}/${f}`),
  );
}

/** The response body as the wire carried it. */
export function bodyText(f: Fixture): string {
  const r = f.response;
  if (!r) throw new Error('fixture has no response');
  return r.bodyText ?? JSON.stringify(r.body);
}

/** Response headers as the client sees them (undici lower-cases names). */
export function lowerHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

/** The JSON type of a value, with arrays and null told apart. */
export function jsonType(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** `{key: jsonType}` of an object, for comparing field sets and types without values. */
export function shapeOf(o: unknown): Record<string, string> {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new Error(`not an object: ${JSON.stringify(o)}`);
  return Object.fromEntries(Object.entries(o as Record<string, unknown>).map(([k, v]) => [k, jsonType(v)]));
}
