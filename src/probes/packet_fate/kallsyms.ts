// Kernel text addresses → `function+0xoffset`, from /proc/kallsyms, for the place a packet was
// dropped. Read once, on the first sampled drop, and kept as two flat arrays (about 3 MB).
import { readFileSync } from 'node:fs';

// Kernel and module text all live in the top 4 GiB of the address space on x86-64 and arm64,
// so the low 32 bits identify a text address and the table needs no bigints.
const TOP_HALF = 0xffffffffn;

export class Kallsyms {
  private addrs: Uint32Array | undefined;
  private names: string[] = [];
  private failed = false;

  constructor(private readonly path = '/proc/kallsyms') {}

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
    const entries: [number, string][] = [];
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      // "ffffffff81000000 T _stext" or "ffffffffc0a01000 t nf_foo\t[nf_tables]"
      const line = text.slice(start, end);
      start = end + 1;
      const type = line.charCodeAt(17) | 0x20; // lower-cased type letter
      if (type !== 0x74 /* t */ || line.length < 20 || !line.startsWith('ffffffff')) continue;
      const tab = line.indexOf('\t', 19);
      entries.push([parseInt(line.slice(8, 16), 16), line.slice(19, tab < 0 ? undefined : tab)]);
    }
    // Without CAP_SYSLOG (kptr_restrict) every address reads as 0: nothing to symbolize with.
    if (entries.length === 0 || entries.every(([a]) => a === 0)) {
      this.failed = true;
      return false;
    }
    entries.sort((a, b) => a[0] - b[0]);
    this.addrs = Uint32Array.from(entries, ([a]) => a);
    this.names = entries.map(([, n]) => n);
    return true;
  }

  /** `nf_hook_slow+0x4c`, or undefined when the address is not kernel text or kallsyms is unreadable. */
  symbolize(address: bigint): string | undefined {
    if (address >> 32n !== TOP_HALF || !this.load()) return undefined;
    const a = Number(address & 0xffffffffn);
    const addrs = this.addrs!;
    let lo = 0, hi = addrs.length - 1;
    if (a < addrs[0]) return undefined;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (addrs[mid] <= a) lo = mid;
      else hi = mid - 1;
    }
    return `${this.names[lo]}+0x${(a - addrs[lo]).toString(16)}`;
  }
}
