/**
 * Reads a JSON array from a byte stream one element at a time, so a body of thousands of records
 * (a content blob can hold 5,000 and weigh 10 MB) never sits in memory whole: only the
 * element being read and the batch being handed on do.
 *
 * The scan only finds where each top-level element starts and ends (strings, escapes and nesting
 * are respected); each element is then checked and parsed by JSON.parse. Anything that is not one
 * well-formed array (HTML error pages, a truncated body, trailing garbage) throws a
 * `JsonArrayError` saying what was wrong and after how many elements.
 */

export class JsonArrayError extends Error {
  override readonly name = 'JsonArrayError';
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const BACKSLASH = 0x5c;

/** How many backslashes come right before `end`, not looking before `from`. */
function backslashesBefore(text: string, end: number, from: number): number {
  let k = end;
  while (k > from && text.charCodeAt(k - 1) === BACKSLASH) k--;
  return end - k;
}
const NOT_SPACE = /\S/g;

/** 'not-array': the body does not start with '['; the error waits for 40 characters to quote. */
type Phase = 'before' | 'not-array' | 'between' | 'after-element' | 'element' | 'done';

/** Splits decoded text into the source text of each top-level element. Feed chunks, then `end()`. */
export class JsonArraySplitter {
  #phase: Phase = 'before';
  #depth = 0;
  #inString = false;
  /** The element was inside a string whose last chunk ended on a backslash. */
  #escapePending = false;
  #parts: string[] = [];
  #count = 0;
  #head = '';

  /** Elements completed so far. */
  get count(): number {
    return this.#count;
  }

  /** The source text of every element completed within `chunk` (in order). */
  push(chunk: string): string[] {
    if (this.#head.length < 40) this.#head += chunk.slice(0, 40 - this.#head.length);
    if (this.#phase === 'not-array') return this.#notArray(false);
    const out: string[] = [];
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      // (cast: the phase changes inside the loop, which narrowing does not see)
      switch (this.#phase as Phase) {
        case 'not-array':
          return this.#notArray(false);
        case 'before':
        case 'between':
        case 'after-element':
        case 'done': {
          NOT_SPACE.lastIndex = i;
          const m = NOT_SPACE.exec(chunk);
          if (!m) return out;
          i = m.index;
          const c = chunk[i] as string;
          i = this.#punctuation(c, i);
          break;
        }
        case 'element':
          i = this.#scanElement(chunk, i, out);
          break;
      }
    }
    return out;
  }

  /** Call at the end of the body: throws if the array was not closed. */
  end(): void {
    if (this.#phase === 'not-array') this.#notArray(true);
    if (this.#phase !== 'done') {
      if (this.#phase === 'before') throw new JsonArrayError(this.#describeStart('the body is empty'));
      throw new JsonArrayError(`the body ends before the array is closed (truncated after ${this.#count} complete records)`);
    }
  }

  /** Handles one non-space character outside an element; returns the next index. */
  #punctuation(c: string, i: number): number {
    switch (this.#phase) {
      case 'before':
        if (c !== '[') {
          this.#phase = 'not-array';
          return i;
        }
        this.#phase = 'between';
        return i + 1;
      case 'between':
        if (c === ']' && this.#count === 0) {
          this.#phase = 'done';
          return i + 1;
        }
        if (c === ',' || c === ']') throw new JsonArrayError(`unexpected "${c}" after ${this.#count} records`);
        this.#phase = 'element';
        return i;
      case 'after-element':
        if (c === ',') {
          this.#phase = 'between';
          return i + 1;
        }
        if (c === ']') {
          this.#phase = 'done';
          return i + 1;
        }
        throw new JsonArrayError(`expected "," or "]" after record ${this.#count}, found "${c}"`);
      default:
        throw new JsonArrayError(`unexpected "${c}" after the array's end`);
    }
  }

  /**
   * Scans element text from `start`; pushes the element to `out` when it ends in this chunk. Most of a
   * record is string content, which `indexOf` skips natively; the few characters between strings are
   * looked at one by one.
   */
  #scanElement(chunk: string, start: number, out: string[]): number {
    const n = chunk.length;
    let i = start;
    for (;;) {
      if (this.#inString) {
        if (this.#escapePending) {
          this.#escapePending = false;
          i++;
        }
        const from = i;
        const quote = chunk.indexOf('"', from);
        if (quote < 0) {
          // The string goes on in the next chunk; an odd run of backslashes at the end escapes its first character.
          this.#escapePending = backslashesBefore(chunk, n, from) % 2 === 1;
          this.#parts.push(chunk.slice(start));
          return n;
        }
        i = quote + 1;
        if (backslashesBefore(chunk, quote, from) % 2 === 0) this.#inString = false;
        continue;
      }
      for (; i < n; i++) {
        const c = chunk.charCodeAt(i);
        if (c === QUOTE) break;
        if (c === OPEN_BRACE || c === OPEN_BRACKET) this.#depth++;
        else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
          // At depth 0 a closing bracket is the array's own (or an error JSON.parse will name).
          if (this.#depth === 0) return this.#finish(chunk, start, i, out);
          if (--this.#depth === 0) return this.#finish(chunk, start, i + 1, out);
        } else if (c === COMMA && this.#depth === 0) return this.#finish(chunk, start, i, out);
      }
      if (i >= n) {
        this.#parts.push(chunk.slice(start));
        return n;
      }
      this.#inString = true;
      i++;
    }
  }

  #finish(chunk: string, start: number, end: number, out: string[]): number {
    this.#parts.push(chunk.slice(start, end));
    out.push(this.#parts.length === 1 ? (this.#parts[0] as string) : this.#parts.join(''));
    this.#parts = [];
    this.#count++;
    this.#phase = 'after-element';
    return end;
  }

  /** Throws once 40 characters are known to quote (or at the end); until then reads on. */
  #notArray(atEnd: boolean): string[] {
    if (atEnd || this.#head.length >= 40) throw new JsonArrayError(this.#describeStart('not a JSON array'));
    return [];
  }

  #describeStart(what: string): string {
    return `${what} (starts with ${JSON.stringify(this.#head.slice(0, 40))})`;
  }
}

/**
 * The elements of the JSON array in `body`, parsed, in batches of at most `batchSize`. Reading
 * pauses while the caller handles a batch (backpressure reaches the socket).
 */
export async function* readJsonArray(body: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>, batchSize: number): AsyncGenerator<unknown[]> {
  const splitter = new JsonArraySplitter();
  const decoder = new TextDecoder('utf-8');
  let batch: unknown[] = [];
  for await (const chunk of body) {
    const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    for (const element of splitter.push(text)) {
      batch.push(parseElement(element, splitter.count));
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
  }
  for (const element of splitter.push(decoder.decode())) batch.push(parseElement(element, splitter.count));
  splitter.end();
  if (batch.length > 0) yield batch;
}

function parseElement(text: string, ordinal: number): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new JsonArrayError(`record ${ordinal} is not valid JSON: ${(err as Error).message}`);
  }
}
