import { describe, expect, it } from 'vitest';
import { JsonArrayError, JsonArraySplitter, readJsonArray } from '../../src/core/json-array-stream.ts';

/** Feeds `text` in chunks of `size` bytes (multi-byte characters are cut on purpose). */
async function* chunks(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function readAll(text: string, size: number, batch = 1000): Promise<unknown[][]> {
  const out: unknown[][] = [];
  for await (const b of readJsonArray(chunks(text, size), batch)) out.push(b);
  return out;
}

const tricky = [
  { Id: 'a', s: 'brackets ] } [ { and commas , inside', q: 'quote \\" and backslash \\\\' },
  { Id: 'b', nested: { deep: [[1, 2], { x: [] }], empty: {} }, emoji: '😀 ü 中文', esc: '\\u00e9\\n' },
  'a scalar string, with ] and ,',
  12.5e3,
  -7,
  true,
  null,
  [{ inner: 'array element' }],
  { Id: 'c', trailing: '\\\\' },
];

describe('readJsonArray', () => {
  it('returns exactly what JSON.parse returns, whatever the chunk size', async () => {
    const text = ` \n[ ${tricky.map((t) => JSON.stringify(t)).join(' ,\n ')} ] \n`;
    const expected = JSON.parse(text) as unknown[];
    for (const size of [1, 2, 3, 5, 7, 64, 1 << 20]) {
      const batches = await readAll(text, size, 4);
      expect(batches.flat(), `chunk size ${size}`).toEqual(expected);
      expect(batches.map((b) => b.length)).toEqual([4, 4, 1]);
    }
  });

  it('reads an empty array, with or without spaces, as no batches', async () => {
    expect(await readAll('[]', 1)).toEqual([]);
    expect(await readAll(' [ \n ] ', 1)).toEqual([]);
  });

  it('hands over batches as they complete, before the body ends', async () => {
    let sent = 0;
    async function* slow(): AsyncGenerator<string> {
      sent = 1;
      yield '[{"n":1},{"n":2},';
      sent = 2;
      yield '{"n":3}]';
    }
    const it = readJsonArray(slow(), 2);
    const first = await it.next();
    expect(first.value).toEqual([{ n: 1 }, { n: 2 }]);
    expect(sent).toBe(1);
    expect((await it.next()).value).toEqual([{ n: 3 }]);
    expect((await it.next()).done).toBe(true);
  });

  it.each([
    ['<html><body>Service Unavailable</body></html>', /not a JSON array \(starts with "<html><body>Service Unavailable<\/body><\/"\)/],
    ['', /the body is empty/],
    ['   ', /the body is empty/],
    ['{"Id":"a"}', /not a JSON array/],
    ['[{"Id":"a"},{"Id":"b"', /truncated after 1 complete records/],
    ['[{"Id":"a"},', /truncated after 1 complete records/],
    ['[{"Id":"a"}', /truncated after 1 complete records/],
    ['[{"Id":"a"} {"Id":"b"}]', /expected "," or "]" after record 1, found "{"/],
    ['[{"Id":"a"},]', /unexpected "]" after 1 records/],
    ['[,{"Id":"a"}]', /unexpected "," after 0 records/],
    ['[{"Id":"a"}] trailing', /after the array's end/],
    ['[{"Id":"a"},{"Id": nope}]', /record 2 is not valid JSON/],
    ['[{"Id":"a"}}]', /expected "," or "]" after record 1, found "}"/],
  ])('refuses %j, saying what was wrong', async (text, message) => {
    for (const size of [1, 4, 1000]) {
      const err = await readAll(text, size).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(JsonArrayError);
      expect((err as Error).message).toMatch(message);
    }
  });

  it('keeps a backslash split across chunks as an escape', () => {
    const splitter = new JsonArraySplitter();
    expect(splitter.push('[{"a":"x\\')).toEqual([]);
    expect(splitter.push('"y"},{"b":1}')).toEqual(['{"a":"x\\"y"}', '{"b":1}']);
    splitter.push(']');
    expect(() => splitter.end()).not.toThrow();
  });
});
