// What every probe counts about its own reading, for /health and the agent's self-metrics.
import type { BpfObject } from './object';
import { bpfStatsEnabled } from './prog-info';

/** What one BPF program of a probe cost so far, by the kernel's run-time statistics. */
export interface ProgramCost {
  /** The program's function name. */
  name: string;
  runTimeNs: number;
  runs: number;
}

/** Per probe: records read from its ring, records the kernel could not write, records not decodable. */
export interface ProbeStats {
  read: number;
  lost: number;
  decodeErrors: number;
  /** Probes that parse what they capture (sni): inputs given up, by reason. */
  rejections?: Readonly<Record<string, number>>;
  /** When this incarnation of the receiver started (its counters count from 0 since then). */
  startedAtMs?: number;
  /** Its programs' cost, present only while the kernel keeps run-time statistics (kernel.bpf_stats_enabled). */
  programs?: readonly ProgramCost[];
}

/** The cost of each program of a loaded object, when the kernel keeps run-time statistics; else undefined. */
export function programCosts(obj: BpfObject | null | undefined): ProgramCost[] | undefined {
  if (!obj?.isLoaded || !bpfStatsEnabled()) return undefined;
  return obj.programInfos().map((p) => ({ name: p.name, runTimeNs: Number(p.runTimeNs), runs: Number(p.runCount) }));
}
