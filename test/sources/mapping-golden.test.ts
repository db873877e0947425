/**
 * Golden tests: realistic records written from Microsoft's and Google's schema references
 * (test/fixtures/{o365,google}/*.json) must map exactly to the checked-in *.expected.json.
 * After an intended mapping change, regenerate with UPDATE_GOLDEN=1 and review the diff.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, fixtureNames, mapFixture } from './mapping-fixtures.ts';

const UPDATE = process.env['UPDATE_GOLDEN'] === '1';

for (const source of ['o365', 'google'] as const) {
  describe(`golden ${source} mapping`, () => {
    for (const name of fixtureNames(source)) {
      it(name, () => {
        const actual = JSON.parse(JSON.stringify(mapFixture(source, name))) as unknown;
        const expectedFile = join(FIXTURES, source, `${name}.expected.json`);
        if (UPDATE) writeFileSync(expectedFile, JSON.stringify(actual, null, 2) + '\n');
        expect(existsSync(expectedFile), `${expectedFile} is missing: run with UPDATE_GOLDEN=1`).toBe(true);
        expect(actual).toEqual(JSON.parse(readFileSync(expectedFile, 'utf8')));
      });
    }
  });
}
