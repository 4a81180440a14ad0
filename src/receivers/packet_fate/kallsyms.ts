// Kernel text addresses → `function+0xoffset`, from /proc/kallsyms, for the place a packet was
// dropped. Read once, on the first sampled drop (about 100 ms), and kept as two flat arrays.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

// Kernel and module text all live in the top 4 GiB of the address space on x86-64 and arm64,
// so the low 32 bits identify a text address and the table needs no bigints.
const TOP_HALF = 0xffffffffn;
/** A /proc/kallsyms line: 16 hex digits of address, a space, the type letter, a space, the name. */
const KSYM_TYPE_AT = 17;
const KSYM_NAME_AT = 19;
/** Of the address, the high 8 hex digits must read "ffffffff" (the top 4 GiB); the low 8 are kept. */
const KSYM_HIGH_DIGITS = 'ffffffff';
const KSYM_LOW_AT = 8;
const KSYM_LOW_END = 16;
/** ASCII: OR-ing 0x20 lower-cases a letter; 't' (either case) marks a text symbol. */
const ASCII_LOWER = 0x20;
const CH_t = 0x74;

export class Kallsyms {
  private addrs: Uint32Array | undefined;
  private names: string[] = [];
  private failed = false;

  constructor(private readonly path = '/proc/kallsyms') {}

  /**
   * Read the table in the background (procfs takes ~200 ms to produce it), so the first sampled
   * drop does not wait for it; symbolize() reads it synchronously if this has not finished.
   */
  async preload(): Promise<void> {
    if (this.addrs || this.failed) return;
    let text: string;
    try {
      text = await readFile(this.path, 'latin1');
    } catch {
      this.failed = true;
      return;
    }
    if (!this.addrs && !this.failed) this.parse(text);
  }

  private load(): boolean {
    if (this.addrs) return true;
    if (this.failed) return false;
    let text: string;
    try {
      text = readFileSync(this.path, 'latin1');
    } catch {
      this.failed = true;
      return false;
    }
    return this.parse(text);
  }

  private parse(text: string): boolean {
    // One pass, no per-line arrays: "ffffffff81000000 T _stext" or "ffffffffc0a01000 t nf_foo\t[nf_tables]".
    const addrs: number[] = [];
    const names: string[] = [];
    let sorted = true;
    let any = false;
    for (let start = 0; start < text.length;) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      const type = text.charCodeAt(start + KSYM_TYPE_AT) | ASCII_LOWER; // lower-cased type letter
      if (type === CH_t && end - start > KSYM_NAME_AT && text.startsWith(KSYM_HIGH_DIGITS, start)) {
        const a = parseInt(text.slice(start + KSYM_LOW_AT, start + KSYM_LOW_END), 16);
        if (a !== 0) any = true;
        if (addrs.length && a < addrs[addrs.length - 1]!) sorted = false;
        const name = text.slice(start + KSYM_NAME_AT, end); // module symbols end in "\t[module]"
        const tab = name.indexOf('\t');
        addrs.push(a);
        names.push(tab < 0 ? name : name.slice(0, tab));
      }
      start = end + 1;
    }
    // Without CAP_SYSLOG (kptr_restrict) every address reads as 0: nothing to symbolize with.
    if (!any) {
      this.failed = true;
      return false;
    }
    if (sorted) {
      this.addrs = Uint32Array.from(addrs);
      this.names = names;
    } else {
      // order holds the indices of addrs (and of names, pushed with it).
      const order = Array.from(addrs.keys()).sort((x, y) => addrs[x]! - addrs[y]!);
      this.addrs = Uint32Array.from(order, (i) => addrs[i]!);
      this.names = order.map((i) => names[i]!);
    }
    return true;
  }

  /** `nf_hook_slow+0x4c`, or undefined when the address is not kernel text or kallsyms is unreadable. */
  symbolize(address: bigint): string | undefined {
    if (address >> 32n !== TOP_HALF || !this.load()) return undefined;
    const a = Number(address & 0xffffffffn);
    const addrs = this.addrs!;
    let lo = 0,
      hi = addrs.length - 1;
    // load() succeeds only with at least one symbol, and lo, mid, hi stay in [0, length).
    if (a < addrs[0]!) return undefined;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (addrs[mid]! <= a) lo = mid;
      else hi = mid - 1;
    }
    return `${this.names[lo]}+0x${(a - addrs[lo]!).toString(16)}`;
  }
}
