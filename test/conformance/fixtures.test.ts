import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURE_DIR, fixture, fixtureNames } from './fixtures.ts';

/** Every conformance fixture says where it came from and what is known and assumed (README "Format"). */
describe('conformance fixtures', () => {
  const names = fixtureNames();
  const readme = readFileSync(join(FIXTURE_DIR, 'README.md'), 'utf8');

  it('are there: both vendors', () => {
    expect(names.filter((n) => n.startsWith('o365/')).length).toBeGreaterThanOrEqual(15);
    expect(names.filter((n) => n.startsWith('google/')).length).toBeGreaterThanOrEqual(5);
  });

  it.each(names)('%s names its origin, what is known and what is assumed, and is indexed', (name) => {
    const f = fixture(name);
    expect(f.origin.document.length).toBeGreaterThan(5);
    expect(f.origin.section.length).toBeGreaterThan(2);
    expect(f.origin.url).toMatch(/^(https:\/\/|docs\/api-notes\.md#)/);
    expect(['doc', 'field']).toContain(f.origin.kind);
    expect(Array.isArray(f.known) && f.known.length > 0).toBe(true);
    expect(Array.isArray(f.assumed)).toBe(true);
    expect(Array.isArray(f.edits)).toBe(true);
    expect(f.response !== undefined || f.table !== undefined).toBe(true);
    expect(readme).toContain(`\`${name.split('/')[1]}\``);
  });
});
