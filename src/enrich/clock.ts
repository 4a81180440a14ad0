// CLOCK_BOOTTIME (what bpf_ktime_get_boot_ns stamps events with) → wall clock.
// offset = realtime − boottime, sampled through libc and re-sampled periodically to follow NTP steps.
import koffi from 'koffi';
import { KernelError } from '../errors';

const libc = koffi.load('libc.so.6');
// struct timespec is filled into a caller-owned Buffer so sampling allocates nothing.
const clock_gettime = libc.func('int clock_gettime(int clk, void *tp)') as (clk: number, tp: Buffer) => number;

/** clockid_t values (include/uapi/linux/time.h). */
const CLOCK_REALTIME = 0;
const CLOCK_BOOTTIME = 7;
const TIMESPEC_SIZE = 16; // { int64 tv_sec; long tv_nsec } on 64-bit Linux
/** Offsets of tv_sec and tv_nsec in struct timespec on 64-bit Linux. */
const TV_SEC_AT = 0;
const TV_NSEC_AT = 8;
const TRIES = 5;

const tsBuf = Buffer.alloc(TIMESPEC_SIZE);

/** Seconds and nanoseconds of a clock, read into the shared timespec. */
function sample(clk: number): void {
  if (clock_gettime(clk, tsBuf) !== 0) throw new KernelError(`clock_gettime(${clk}) failed`, koffi.errno(), 'clock_gettime');
}
const sec = (): number => Number(tsBuf.readBigInt64LE(TV_SEC_AT));
const nsec = (): number => Number(tsBuf.readBigInt64LE(TV_NSEC_AT));

/** Nanoseconds since boot, suspend included: the same clock as the kernel's event timestamps. */
export function nowBootNs(): number {
  sample(CLOCK_BOOTTIME);
  return sec() * 1e9 + nsec();
}

/** realtime − boottime in ms, from the tightest of a few realtime/boottime/realtime brackets. */
export function sampleOffsetMs(): number {
  let best = Infinity;
  let offset = 0;
  for (let i = 0; i < TRIES; i++) {
    sample(CLOCK_REALTIME);
    const r1s = sec(),
      r1n = nsec();
    sample(CLOCK_BOOTTIME);
    const bs = sec(),
      bn = nsec();
    sample(CLOCK_REALTIME);
    const r2s = sec(),
      r2n = nsec();
    // Seconds and nanoseconds are subtracted apart so no intermediate exceeds 2^53.
    const spanNs = (r2s - r1s) * 1e9 + (r2n - r1n);
    if (spanNs < best) {
      best = spanNs;
      offset = (r1s - bs) * 1e3 + (r1n - bn) / 1e6 + spanNs / 2e6;
    }
  }
  return offset;
}

export class BootClock {
  private offsetMs = sampleOffsetMs();
  private timer: NodeJS.Timeout | undefined;

  /** Re-sample now and then every `intervalMs`; the timer never keeps the process alive. */
  start(intervalMs = 60_000): this {
    this.stop();
    this.timer = setInterval(() => this.refresh(), intervalMs);
    this.timer.unref();
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  refresh(): void {
    this.offsetMs = sampleOffsetMs();
  }

  /** Wall-clock ms since the epoch (fractional: sub-ms precision kept) for a boot-time stamp. */
  toUnixMs(bootNs: number): number {
    return this.offsetMs + bootNs / 1e6;
  }
}
