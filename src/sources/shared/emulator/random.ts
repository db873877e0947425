import { createHash } from 'node:crypto';

/**
 * Deterministic randomness for the emulator. Everything (record ids, field values, blob sizes) is
 * derived from a key such as `seed:blob:record`, so the same seed serves the same data, and a blob's
 * records can be regenerated from its id alone instead of being held in memory.
 *
 * xoshiro128** seeded from SHA-256 of the key: 128 bits of state, so a million record GUIDs do not
 * collide (a 32-bit seeded generator would repeat ids at that scale).
 */
export class Random {
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;

  constructor(key: string | readonly [number, number, number, number]) {
    const words = typeof key === 'string' ? keyWords(key) : key;
    this.#s0 = words[0] >>> 0;
    this.#s1 = words[1] >>> 0;
    this.#s2 = words[2] >>> 0;
    this.#s3 = (words[3] | 1) >>> 0; // never the all-zero state
  }

  /**
   * The generator for item `index` under a parent key's words: cheaper than hashing a new key (one
   * SHA-256 per blob instead of one per record), and distinct indexes give distinct states.
   */
  static child(parent: readonly [number, number, number, number], index: number): Random {
    return new Random([fmix32(parent[0] ^ index), fmix32(parent[1] + Math.imul(index, 0x9e3779b9)), fmix32(parent[2] ^ Math.imul(index, 0x85ebca6b)), fmix32(parent[3] + index)]);
  }

  /** Next 32-bit unsigned integer. */
  uint32(): number {
    const result = Math.imul(rotl(Math.imul(this.#s1, 5), 7), 9) >>> 0;
    const t = this.#s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= this.#s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = rotl(this.#s3, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.uint32() / 4_294_967_296;
  }

  /** Uniform integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** A version-4-shaped GUID, lower case, as the Management Activity API writes record ids. */
  guid(): string {
    const a = this.uint32();
    const b = this.uint32();
    const c = (this.uint32() & 0x3fffffff) | 0x80000000; // RFC 4122 variant bits
    const d = this.uint32();
    return `${hex8(a)}-${hex4(b >>> 16)}-4${hex8(b).slice(5)}-${hex4(c >>> 16)}-${hex4(c & 0xffff)}${hex8(d)}`;
  }

  /** Fisher-Yates, in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [items[i], items[j]] = [items[j] as T, items[i] as T];
    }
    return items;
  }
}

function keyWords(key: string): [number, number, number, number] {
  const digest = createHash('sha256').update(key).digest();
  return [digest.readUInt32LE(0), digest.readUInt32LE(4), digest.readUInt32LE(8), digest.readUInt32LE(12)];
}

/** Words of a key, for `Random.child`. */
export function seedWords(key: string): [number, number, number, number] {
  return keyWords(key);
}

/** MurmurHash3's finaliser: spreads every input bit over the output. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
function hex4(n: number): string {
  return (HEX[(n >>> 8) & 0xff] as string) + (HEX[n & 0xff] as string);
}
function hex8(n: number): string {
  return hex4(n >>> 16) + hex4(n & 0xffff);
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** A GUID that depends only on the key (tenant ids, client ids, record ids). */
export function guidFor(key: string): string {
  return new Random(key).guid();
}
