// NUL-terminated strings in ring records (comm, interface names), read without a Buffer.

/** comm is NUL-padded ASCII from the kernel; build the string without a Buffer. */
export function readCString(b: Uint8Array, off: number, max: number): string {
  let s = '';
  for (let i = 0; i < max; i++) {
    const ch = b[off + i]!; // callers pass a field inside a record whose length was checked
    if (ch === 0) break;
    s += String.fromCharCode(ch);
  }
  return s;
}
