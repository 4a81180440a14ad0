// Formatting raw addresses from ring records without allocating intermediate buffers.

export type NetworkType = 'ipv4' | 'ipv6';
export type Transport = 'tcp' | 'udp';

export function formatIPv4(b: Uint8Array, off: number): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/** RFC 5952 text form: lower-case hex, longest run (≥2) of zero groups as ::, v4-mapped as ::ffff:a.b.c.d. */
export function formatIPv6(b: Uint8Array, off: number): string {
  const g = [0, 0, 0, 0, 0, 0, 0, 0];
  // The 16 address bytes lie inside a record whose length the decoder checked.
  for (let i = 0; i < 8; i++) g[i] = (b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!;
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${formatIPv4(b, off + 12)}`;
  }
  let bestStart = -1,
    bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      s += i === 0 ? '::' : ':';
      i += bestLen - 1;
      continue;
    }
    s += g[i]!.toString(16); // i < 8
    if (i < 7) s += ':';
  }
  return s;
}
