import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';

/**
 * The import rules of src/ (`npm run lint` runs this file; test/lint/import-rules.test.ts checks
 * the checker). Imports point down: the core knows nothing outside itself, telemetry knows no source
 * and no daemon, config and state reach secrets (not telemetry) for redaction, a source is reached
 * only through the registry and never imports another source, and no files import each other in a
 * circle. Every import counts: type-only, re-exports and dynamic `import()`.
 *
 * Why not dependency-cruiser: it reads TypeScript through the TypeScript compiler API (gone in
 * TypeScript 7, which this project uses) or swc, and without them it finds no .ts files at all.
 */

export interface Violation {
  file: string;
  imports?: string;
  rule: string;
}

/** `from` a file under the prefix, an import of a file under any `forbid` prefix breaks `rule`. */
interface Rule {
  from: string;
  forbid: string[];
  /** Targets under a forbidden prefix that are still allowed (a component's config section). */
  except?: string[];
  rule: string;
}

const TOP = ['src/cli/', 'src/daemon.ts', 'src/doctor/', 'src/backfill/', 'src/emulators.ts'];

const RULES: Rule[] = [
  { from: 'src/secrets/', forbid: ['src/'], except: ['src/secrets/'], rule: 'secrets is the bottom: it imports nothing of the project' },
  { from: 'src/core/', forbid: ['src/'], except: ['src/core/', 'src/secrets/'], rule: 'core knows nothing outside itself: telemetry, scale, state, export and the sources reach it through its interfaces' },
  { from: 'src/telemetry/', forbid: ['src/sources/', 'src/scale/', ...TOP], rule: 'telemetry knows no source and no daemon: it reads what it is given' },
  { from: 'src/config-kit/', forbid: ['src/'], except: ['src/config-kit/', 'src/core/', 'src/secrets/'], rule: 'the config kit is written with the core alone' },
  { from: 'src/state/', forbid: ['src/telemetry/', 'src/scale/', 'src/export/', 'src/sources/', 'src/config/', ...TOP], rule: 'state knows only the core, the config kit and secrets' },
  { from: 'src/config/', forbid: ['src/telemetry/', 'src/scale/', ...TOP], except: ['src/telemetry/config.ts'], rule: 'config composes sections and redacts through secrets, not telemetry' },
  { from: 'src/export/', forbid: ['src/telemetry/', 'src/scale/', 'src/sources/', ...TOP], rule: 'export knows no telemetry, scale or source' },
  { from: 'src/scale/', forbid: ['src/telemetry/', 'src/sources/', ...TOP], rule: 'scale knows no telemetry and no source' },
  { from: 'src/sources/', forbid: ['src/scale/', ...TOP], rule: 'a source knows nothing of the daemon that runs it' },
];

/** Relative import specifiers of a file: static, re-exports and dynamic, comments left out. */
export function importsOf(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const out: string[] = [];
  for (const m of code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm)) out.push(m[1] as string);
  return out;
}

function filesUnder(root: string, dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, dir))) {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) out.push(...filesUnder(root, path));
    else if (name.endsWith('.ts')) out.push(path.split(sep).join('/'));
  }
  return out;
}

/** Every file of `src/` under `root` and the files it imports. */
export function importGraph(root: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of filesUnder(root, 'src')) {
    const targets = importsOf(readFileSync(join(root, file), 'utf8')).map((spec) => normalize(join(dirname(file), spec)).split(sep).join('/'));
    graph.set(file, targets);
  }
  return graph;
}

/** The kinds of source: the folders of src/sources/ but the shared kits. */
function sourceKinds(graph: Map<string, string[]>): Set<string> {
  const kinds = new Set<string>();
  for (const file of graph.keys()) {
    const m = /^src\/sources\/([^/]+)\//.exec(file);
    if (m && m[1] !== 'shared') kinds.add(m[1] as string);
  }
  return kinds;
}

const kindOf = (file: string, kinds: Set<string>): string | undefined => {
  const m = /^src\/sources\/([^/]+)\//.exec(file);
  return m && kinds.has(m[1] as string) ? m[1] : undefined;
};

export function checkImports(graph: Map<string, string[]>): Violation[] {
  const violations: Violation[] = [];
  const kinds = sourceKinds(graph);
  for (const [file, targets] of graph) {
    for (const target of targets) {
      for (const rule of RULES) {
        if (!file.startsWith(rule.from)) continue;
        if (rule.forbid.some((p) => target.startsWith(p)) && !rule.except?.some((p) => target.startsWith(p))) {
          violations.push({ file, imports: target, rule: rule.rule });
        }
      }
      const targetKind = kindOf(target, kinds);
      if (targetKind !== undefined && kindOf(file, kinds) !== targetKind && file !== 'src/sources/registry.ts') {
        violations.push({ file, imports: target, rule: 'a source is reached only through the registry (src/sources/registry.ts), never by another source or module' });
      }
    }
  }
  for (const circle of circles(graph)) violations.push({ file: circle.join(' -> '), rule: 'no files import each other in a circle' });
  return violations;
}

/** Strongly connected components of more than one file, or a file importing itself (Tarjan). */
export function circles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    indexOf.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!indexOf.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, indexOf.get(w)!));
      }
    }
    if (low.get(v) !== indexOf.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop() as string;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(component.sort());
  };
  for (const v of [...graph.keys()].sort()) if (!indexOf.has(v)) visit(v);
  return out;
}

// `node test/lint/import-rules.ts` (npm run lint): print every violation, exit 1 if any.
if (process.argv[1] && relative(process.argv[1], import.meta.filename) === '') {
  const root = join(import.meta.dirname, '..', '..');
  const violations = checkImports(importGraph(root));
  for (const v of violations) process.stderr.write(`${v.file}${v.imports ? ` imports ${v.imports}` : ''}: ${v.rule}\n`);
  if (violations.length > 0) process.exitCode = 1;
  else process.stdout.write(`import rules: ${importGraph(root).size} files of src/, no violations\n`);
}
