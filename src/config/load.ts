import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { registerSecret } from '../secrets/redact.ts';
import { SOURCE_LIST, type SourceKind } from '../sources/index.ts';
import { type Config, configSchema } from './schema.ts';

/** One problem in a config file, named by its key path. */
export interface ConfigProblem {
  path: string;
  message: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly file: string;
  readonly problems: ConfigProblem[];
  constructor(file: string, problems: ConfigProblem[]) {
    super(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`);
    this.file = file;
    this.problems = problems;
  }
}

export interface LoadedConfig {
  config: Config;
  file: string;
  /** Folder of the config file: relative paths inside it resolve from here. */
  baseDir: string;
}

/** Reads, substitutes and validates a config file. Throws `ConfigError` listing every problem. */
export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [{ path: '(file)', message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]);
  }
  const baseDir = dirname(resolve(file));
  return { config: parseConfigText(text, file, baseDir, env), file, baseDir };
}

export function parseConfigText(text: string, file: string, baseDir: string, env: NodeJS.ProcessEnv = process.env): Config {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => ({ path: `(line ${e.linePos?.[0]?.line ?? '?'})`, message: e.message.split('\n')[0] ?? e.message })),
    );
  }
  const raw = doc.toJS() ?? {};
  const problems: ConfigProblem[] = [];
  const substituted = substitute(raw, [], baseDir, env, problems);
  if (problems.length > 0) throw new ConfigError(file, problems);
  const result = configSchema.safeParse(substituted);
  if (!result.success) throw new ConfigError(file, result.error.issues.map(issueToProblem));
  const config = result.data;
  // Relative paths in the file mean "next to the config file", wherever the daemon was started.
  const fromConfigDir = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  config.state.path = fromConfigDir(config.state.path);
  for (const source of SOURCE_LIST) for (const entry of config.sources[source.kind as SourceKind]) source.resolvePaths?.(entry, fromConfigDir);
  if (config.export.deadLetterFile) config.export.deadLetterFile = fromConfigDir(config.export.deadLetterFile);
  return config;
}

const REFERENCE = /\$\{(env|file):([^}]+)\}/g;

/**
 * Replaces `${env:NAME}` (or `${env:NAME:-default}`) and `${file:PATH}` inside string values.
 * Done on the parsed tree, not the text, so a secret can never change the YAML structure.
 * Every substituted value is registered as a secret for redaction.
 */
function substitute(value: unknown, path: (string | number)[], baseDir: string, env: NodeJS.ProcessEnv, problems: ConfigProblem[]): unknown {
  if (typeof value === 'string') {
    return value.replace(REFERENCE, (_match, kind: string, ref: string) => {
      const resolved = kind === 'env' ? fromEnv(ref, env) : fromFile(ref, baseDir);
      if (resolved.error) {
        problems.push({ path: formatPath(path), message: resolved.error });
        return '';
      }
      registerSecret(resolved.value);
      return resolved.value ?? '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substitute(v, [...path, i], baseDir, env, problems));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, [...path, k], baseDir, env, problems)]));
  }
  return value;
}

function fromEnv(ref: string, env: NodeJS.ProcessEnv): { value?: string; error?: string } {
  const [name, fallback] = ref.split(':-', 2) as [string, string | undefined];
  const value = env[name.trim()];
  if (value !== undefined && value !== '') return { value };
  if (fallback !== undefined) return { value: fallback };
  return { error: `environment variable ${name.trim()} is not set` };
}

function fromFile(ref: string, baseDir: string): { value?: string; error?: string } {
  const path = isAbsolute(ref.trim()) ? ref.trim() : resolve(baseDir, ref.trim());
  try {
    return { value: readFileSync(path, 'utf8').replace(/\r?\n$/, '') };
  } catch (err) {
    return { error: `cannot read file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
}

function issueToProblem(issue: z.core.$ZodIssue): ConfigProblem {
  return { path: formatPath(issue.path as (string | number)[]), message: describeIssue(issue) };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    case 'invalid_type':
      return issue.message.startsWith('Invalid input') ? `expected ${issue.expected}` : issue.message;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return issue.message;
  }
}

export function formatPath(path: (string | number | symbol)[]): string {
  if (path.length === 0) return '(top level)';
  return path.reduce<string>((out, seg) => (typeof seg === 'number' ? `${out}[${seg}]` : out ? `${out}.${String(seg)}` : String(seg)), '');
}
