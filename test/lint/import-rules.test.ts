import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkImports, circles, importGraph, importsOf } from './import-rules.ts';

const ROOT = join(import.meta.dirname, '..', '..');

describe('import rules', () => {
  it('read static, type-only, re-exported and dynamic imports, not ones in comments', () => {
    const text = [
      "import type { A } from '../core/a.ts';",
      "import {\n  b,\n  c,\n} from './b.ts';",
      "export { d } from './d.ts';",
      "import './side-effect.ts';",
      "const e = await import('../e.ts');",
      "// import { f } from './f.ts';",
      "/* import { g } from './g.ts'; */",
      "import { pino } from 'pino';",
    ].join('\n');
    expect(importsOf(text)).toEqual(['../core/a.ts', './b.ts', './d.ts', './side-effect.ts', '../e.ts']);
  });

  it('catch an upward import, a source importing another, a module bypassing the registry, and a circle', () => {
    const graph = new Map<string, string[]>([
      ['src/core/runner.ts', ['src/telemetry/metrics.ts']],
      ['src/telemetry/status.ts', ['src/sources/alpha/health.ts']],
      ['src/state/postgres-store.ts', ['src/telemetry/log.ts']],
      ['src/sources/beta/mapping/index.ts', ['src/sources/alpha/mapping/ip.ts']],
      ['src/sources/shared/mapping/flatten.ts', ['src/core/record.ts']],
      ['src/sources/registry.ts', ['src/sources/alpha/index.ts', 'src/sources/beta/index.ts']],
      ['src/sources/alpha/index.ts', ['src/sources/alpha/client.ts']],
      ['src/sources/alpha/client.ts', ['src/sources/alpha/api.ts']],
      ['src/sources/alpha/api.ts', ['src/sources/alpha/client.ts']],
      ['src/sources/alpha/health.ts', []],
      ['src/sources/alpha/mapping/ip.ts', []],
      ['src/sources/beta/index.ts', []],
      ['src/telemetry/metrics.ts', []],
      ['src/telemetry/log.ts', []],
      ['src/core/record.ts', []],
    ]);
    const found = checkImports(graph).map((v) => `${v.file}${v.imports ? ` -> ${v.imports}` : ''}`);
    expect(found.sort()).toEqual(
      [
        'src/core/runner.ts -> src/telemetry/metrics.ts',
        'src/telemetry/status.ts -> src/sources/alpha/health.ts',
        'src/telemetry/status.ts -> src/sources/alpha/health.ts',
        'src/state/postgres-store.ts -> src/telemetry/log.ts',
        'src/sources/beta/mapping/index.ts -> src/sources/alpha/mapping/ip.ts',
        'src/sources/alpha/api.ts -> src/sources/alpha/client.ts',
      ].sort(),
    );
    expect(circles(graph)).toEqual([['src/sources/alpha/api.ts', 'src/sources/alpha/client.ts']]);
  });

  it('hold for src/ as it is', () => {
    const graph = importGraph(ROOT);
    expect(graph.size).toBeGreaterThan(100);
    expect(checkImports(graph)).toEqual([]);
  });
});
