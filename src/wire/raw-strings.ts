// Strings decoded from raw record bytes that recur (comms, addresses), built once: a direct-mapped
// cache keyed by the bytes as four 32-bit words. A miss or a collision just builds the string again,
// so what the decoder returns never depends on the cache — only how often it allocates.

export class RawStringCache {
  private readonly words: Int32Array;
  private readonly strings: (string | undefined)[];
  private readonly shift: number;

  /** 2^bits slots. */
  constructor(bits = 8) {
    this.words = new Int32Array(4 << bits);
    this.strings = new Array<string | undefined>(1 << bits).fill(undefined);
    this.shift = 32 - bits;
  }

  private slot(a: number, b: number, c: number, d: number): number {
    // Multiplicative hashing (Knuth's golden-ratio constant and murmur3's mixers), top bits kept.
    const h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b, 0x85ebca77) ^ Math.imul(c, 0xc2b2ae3d) ^ Math.imul(d, 0x27d4eb2f);
    return Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> this.shift;
  }

  /** The string cached for exactly these words, or undefined. */
  get(a: number, b: number, c: number, d: number): string | undefined {
    const s = this.slot(a, b, c, d);
    const w = this.words;
    const i = s << 2;
    return w[i] === a && w[i + 1] === b && w[i + 2] === c && w[i + 3] === d ? this.strings[s] : undefined;
  }

  /** Remember `str` for these words (replacing whatever shared the slot); returns `str`. */
  set(a: number, b: number, c: number, d: number, str: string): string {
    const s = this.slot(a, b, c, d);
    const i = s << 2;
    this.words[i] = a;
    this.words[i + 1] = b;
    this.words[i + 2] = c;
    this.words[i + 3] = d;
    this.strings[s] = str;
    return str;
  }
}
