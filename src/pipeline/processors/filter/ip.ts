// Allocation-free IP address parsing for the hot path (net.BlockList.check allocates a
// SocketAddress per call). IPv6 groups are written into a caller-provided Uint16Array.

const DOT = 46;
const COLON = 58;

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Dotted quad in s[start, end) → unsigned 32-bit value, or -1. */
export function parseIPv4(s: string, start = 0, end = s.length): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let parts = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === DOT) {
      if (digits === 0 || parts === 3) return -1;
      value = value * 256 + octet;
      parts++;
      octet = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return -1;
    } else return -1;
  }
  if (digits === 0 || parts !== 3) return -1;
  return value * 256 + octet;
}

/** RFC 4291 text form (with `::` and an optional trailing dotted quad; no zone) → 8 groups in `out`. */
export function parseIPv6(s: string, out: Uint16Array): boolean {
  const n = s.length;
  let g = 0;
  let gap = -1; // group index where `::` stands
  let i = 0;
  if (n < 2) return false;
  if (s.charCodeAt(0) === COLON) {
    if (s.charCodeAt(1) !== COLON) return false;
    gap = 0;
    i = 2;
  }
  while (i < n) {
    if (g === 8) return false;
    let v = 0;
    let j = i;
    while (j < n && j - i < 5) {
      const h = hexValue(s.charCodeAt(j));
      if (h < 0) break;
      v = v * 16 + h;
      j++;
    }
    if (j < n && s.charCodeAt(j) === DOT) {
      if (g > 6) return false;
      const v4 = parseIPv4(s, i, n);
      if (v4 < 0) return false;
      out[g++] = v4 >>> 16;
      out[g++] = v4 & 0xffff;
      break;
    }
    if (j === i || j - i > 4) return false;
    out[g++] = v;
    if (j === n) break;
    if (s.charCodeAt(j) !== COLON) return false;
    j++;
    if (j < n && s.charCodeAt(j) === COLON) {
      if (gap >= 0) return false;
      gap = g;
      j++;
    } else if (j === n) return false;
    i = j;
  }
  if (gap < 0) return g === 8;
  if (g === 8) return false;
  const tail = g - gap;
  // gap + k < g <= 8: inside the 8 groups.
  for (let k = tail - 1; k >= 0; k--) out[8 - tail + k] = out[gap + k]!;
  for (let k = gap; k < 8 - tail; k++) out[k] = 0;
  return true;
}

/** `::ffff:a.b.c.d` (RFC 4291 §2.5.5.2) → the IPv4 value, else -1. */
export function v4Mapped(groups: Uint16Array): number {
  for (let k = 0; k < 5; k++) if (groups[k] !== 0) return -1;
  if (groups[5] !== 0xffff) return -1;
  return groups[6]! * 65536 + groups[7]!; // the 8 groups of an address
}
