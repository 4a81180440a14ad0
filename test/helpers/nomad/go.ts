// Go's parsers and error formats as Nomad uses them, so the double's answers read like Nomad's.
// Follows: Go's time.ParseDuration and strconv.ParseBool; hashicorp/go-multierror's ListFormatFunc
// (the layout of Nomad's validation errors, nomad/structs/structs.go Job.Validate).

/** go-multierror's default ListFormatFunc, so nested validation texts read like Nomad's. */
export function multierror(errors: string[]): string {
  if (errors.length === 1) return `1 error occurred:\n\t* ${errors[0]}\n\n`;
  return `${errors.length} errors occurred:\n\t${errors.map((e) => `* ${e}`).join('\n\t')}\n\n`;
}

/** Go's time.ParseDuration, returning milliseconds, or undefined when Go would fail. */
export function parseGoDuration(s: string): number | undefined {
  if (s === '0' || s === '+0' || s === '-0') return 0;
  const m = /^([-+]?)((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/.exec(s);
  if (!m) return undefined;
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const part of m[2].matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) total += Number(part[1]) * unit[part[2]];
  return m[1] === '-' ? -total : total;
}

/** Go's strconv.ParseBool. */
export function parseGoBool(s: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return undefined;
}

/** Go's time.Duration.String for a duration in nanoseconds: "15s", "1m0s", "1h30m0s", "200ms", "1.5µs", "0s". */
export function formatGoDuration(ns: number): string {
  let u = Math.trunc(Math.abs(ns));
  if (u === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  // The integer part, then the fraction without trailing zeros (time.go fmtFrac / fmtInt).
  const frac = (v: number, unit: number): string => {
    const whole = Math.floor(v / unit);
    const rest = v - whole * unit;
    if (rest === 0) return String(whole);
    const digits = String(unit).length - 1;
    return `${whole}.${String(rest).padStart(digits, '0').replace(/0+$/, '')}`;
  };
  if (u < 1e9) {
    if (u < 1e3) return `${sign}${u}ns`;
    if (u < 1e6) return `${sign}${frac(u, 1e3)}µs`;
    return `${sign}${frac(u, 1e6)}ms`;
  }
  const h = Math.floor(u / 3.6e12);
  u -= h * 3.6e12;
  const m = Math.floor(u / 6e10);
  u -= m * 6e10;
  return `${sign}${h > 0 ? `${h}h` : ''}${h > 0 || m > 0 ? `${m}m` : ''}${frac(u, 1e9)}s`;
}
