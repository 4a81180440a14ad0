// What the figures were measured on: cores, CPU, kernel, Node, load, and other tracers present.
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, release, totalmem } from 'node:os';

export interface Machine {
  date: string;
  cores: number;
  cpu: string;
  kernel: string;
  node: string;
  memoryGiB: number;
  /** 1-minute load average when the bench started and ended. */
  loadStart: number;
  loadEnd?: number;
  /** BPF programs of other processes on sock:inet_sock_set_state when the bench started (they slow every storm alike). */
  foreignTracers: number;
}

/** Tracepoint programs of processes other than `exclude` on sock:inet_sock_set_state (bpftool perf). */
export function foreignTracers(exclude: readonly number[] = [process.pid]): number {
  try {
    const out = execFileSync('bpftool', ['perf'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return out.split('\n').filter((l) => l.includes('inet_sock_set_state') && !exclude.includes(Number(/pid (\d+)/.exec(l)?.[1]))).length;
  } catch {
    return NaN;
  }
}

export function describeMachine(): Machine {
  return {
    date: new Date().toISOString(),
    cores: cpus().length,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    kernel: release(),
    node: process.version,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    loadStart: loadavg()[0],
    foreignTracers: foreignTracers(),
  };
}
