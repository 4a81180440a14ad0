// CPU and memory of processes: this one (process.cpuUsage, µs) and children (/proc/<pid>/stat, ticks).
import { readFileSync } from 'node:fs';

/** CPU time (user + system) of this process in ns, all threads. */
export function selfCpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

// USER_HZ: what /proc/<pid>/stat counts in; 100 on every Linux ABI that matters.
const CLOCK_TICK_NS = 1e7;

/** CPU time (utime + stime, all threads) of a process in ns, at 10 ms resolution; NaN when it is gone. */
export function processCpuNs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may hold spaces and parentheses: fields count from after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * CLOCK_TICK_NS; // fields 14 and 15 of proc(5)
  } catch {
    return NaN;
  }
}

/** Resident set size now and its peak (VmRSS, VmHWM) of a process in bytes; NaN when it is gone. */
export function processMemory(pid: number | 'self'): { rss: number; peak: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), peak: kb('VmHWM') };
  } catch {
    return { rss: NaN, peak: NaN };
  }
}

/**
 * Time a thread spent waiting on a run queue for a CPU, in ns (the second field of schedstat):
 * how much other processes kept it from running. `self` is the calling thread.
 */
export function runQueueWaitNs(pid: number | 'self'): number {
  try {
    const path = pid === 'self' ? '/proc/thread-self/schedstat' : `/proc/${pid}/schedstat`;
    return Number(readFileSync(path, 'utf8').split(' ')[1]);
  } catch {
    return NaN;
  }
}
