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

  constructor(key: string) {
    const digest = createHash('sha256').update(key).digest();
    this.#s0 = digest.readUInt32LE(0);
    this.#s1 = digest.readUInt32LE(4);
    this.#s2 = digest.readUInt32LE(8);
    this.#s3 = digest.readUInt32LE(12) | 1; // never the all-zero state
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

  /** A version-4-shaped GUID, lower case, as Office 365 writes record ids. */
  guid(): string {
    const hex = [this.uint32(), this.uint32(), this.uint32(), this.uint32()].map((n) => n.toString(16).padStart(8, '0')).join('');
    const variant = ((Number.parseInt(hex[16] as string, 16) & 0x3) | 0x8).toString(16);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
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

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** A GUID that depends only on the key (tenant ids, client ids, record ids). */
export function guidFor(key: string): string {
  return new Random(key).guid();
}
