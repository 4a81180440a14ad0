// errno numbers (Linux, all architectures netwatch runs on) → names for `error.type`.
// A table rather than koffi.os.errno so telemetry does not load the kernel binding.

const NAMES: ReadonlyMap<number, string> = new Map([
  [1, 'EPERM'],
  [4, 'EINTR'],
  [11, 'EAGAIN'],
  [13, 'EACCES'],
  [22, 'EINVAL'],
  [24, 'EMFILE'],
  [32, 'EPIPE'],
  [97, 'EAFNOSUPPORT'],
  [98, 'EADDRINUSE'],
  [99, 'EADDRNOTAVAIL'],
  [100, 'ENETDOWN'],
  [101, 'ENETUNREACH'],
  [102, 'ENETRESET'],
  [103, 'ECONNABORTED'],
  [104, 'ECONNRESET'],
  [105, 'ENOBUFS'],
  [110, 'ETIMEDOUT'],
  [111, 'ECONNREFUSED'],
  [112, 'EHOSTDOWN'],
  [113, 'EHOSTUNREACH'],
  [115, 'EINPROGRESS'],
]);

/** `ECONNREFUSED` for 111; `E<n>` for numbers outside the table. */
export function errnoName(errno: number): string {
  return NAMES.get(errno) ?? `E${errno}`;
}
