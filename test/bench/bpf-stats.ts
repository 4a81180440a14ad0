// In-kernel cost of a process's BPF programs: run-time statistics are switched on only while the
// fd of bpf_enable_stats(BPF_STATS_RUN_TIME) is open (no sysctl is touched), and each program's
// run_cnt / run_time_ns is read with bpftool. Used for one diagnostic storm, never a measured one
// (the accounting itself adds two clock reads to every program run on the machine).
import { execFileSync } from 'node:child_process';
import koffi from 'koffi';
import { c } from '../../src/kernel/libbpf';
import { heldBpfObjects } from '../helpers/bpf-objects';

const BPF_STATS_RUN_TIME = 0; // enum bpf_stats_type
const enableStats = koffi.load('libbpf.so.1').func('int bpf_enable_stats(int type)');

/** Run `fn` with BPF run-time statistics on. */
export async function withBpfStats<T>(fn: () => Promise<T>): Promise<T> {
  const fd = enableStats(BPF_STATS_RUN_TIME) as number;
  if (fd < 0) throw new Error(`bpf_enable_stats failed: ${-fd}`);
  try {
    return await fn();
  } finally {
    c.close(fd);
  }
}

export interface ProgramCost {
  name: string;
  runs: number;
  ns: number;
}

/** Runs and nanoseconds so far of every BPF program `pid` holds. */
export function programCosts(pid: number): ProgramCost[] {
  return heldBpfObjects(pid).progIds.map((id) => {
    const info = JSON.parse(execFileSync('bpftool', ['prog', 'show', 'id', String(id), '--json'], { encoding: 'utf8' })) as {
      name: string;
      run_cnt?: number;
      run_time_ns?: number;
    };
    return { name: info.name, runs: info.run_cnt ?? 0, ns: info.run_time_ns ?? 0 };
  });
}
