// An event's owner → its attribution: wall clock, process, container and Nomad task.
// Called per event (up to ~1M/s): a cache hit reads no file, takes no clock and, with enrichInto(),
// allocates nothing; the event's own boot-time stamp is the "now" that ages the caches. The enricher
// returns only the enrichment: each receiver assembles its own event (src/receivers/<type>/).
import { CgroupResolver, type CgroupPathSource } from './cgroup';
import { BootClock, nowBootNs } from './clock';
import type { LruStats } from './lru';
import { NomadCache } from './nomad';
import { ProcessCache } from './process';
import { emptyEnrichment, type Enrichment } from './types';

export interface EnricherOptions {
  /** pids remembered (default 4096). */
  processCacheSize?: number;
  /** How long a pid's info is trusted before /proc is read again (default 30 s). */
  processTtlMs?: number;
  /** cgroups remembered (default 4096). */
  cgroupCacheSize?: number;
  /** Nomad tasks remembered (default 1024). */
  nomadCacheSize?: number;
  /** Least time between two cgroup-tree walks caused by unknown cgroup ids (default 1 s). */
  cgroupWalkIntervalMs?: number;
  /** The cgroup2 mount (default: from /proc/self/mountinfo). */
  cgroupRoot?: string;
  /** procfs (default /proc). */
  procRoot?: string;
  /** How often realtime − boottime is re-sampled (default 60 s). */
  clockRefreshMs?: number;
}

export interface EnricherStats {
  events: number;
  process: LruStats & { procReads: number };
  cgroup: LruStats & { walks: number; indexed: number; unresolved: number };
  nomad: LruStats & { environReads: number };
}

export class Enricher {
  private readonly clock = new BootClock();
  private readonly processes: ProcessCache;
  private readonly cgroups: CgroupResolver;
  private readonly nomad: NomadCache;
  private events = 0;
  private latestBootNs = 0;

  constructor(opts: EnricherOptions = {}) {
    this.processes = new ProcessCache({ size: opts.processCacheSize, ttlMs: opts.processTtlMs, procRoot: opts.procRoot });
    this.cgroups = new CgroupResolver({ size: opts.cgroupCacheSize, root: opts.cgroupRoot, minWalkIntervalMs: opts.cgroupWalkIntervalMs });
    this.nomad = new NomadCache({ size: opts.nomadCacheSize, procRoot: opts.procRoot });
    this.clock.start(opts.clockRefreshMs ?? 60_000);
  }

  /**
   * What enrichment adds for an owner known by pid, executable name (as the kernel saw it) and
   * cgroup id (any of them may be 0 / ''), at kernel time `bootNs` (0 = now). A cgroup id alone
   * still names the container and Nomad allocation; an executable name alone still names the
   * process. Receivers assemble their own events from it; the enricher never sees them.
   */
  enrichOwner(pid: number, exeName: string, cgroupId: number, bootNs: number): Enrichment {
    return this.enrichInto(emptyEnrichment(), pid, exeName, cgroupId, bootNs);
  }

  /** enrichOwner() into `out`, overwriting every field: a receiver reuses one object and allocates nothing here. */
  enrichInto(out: Enrichment, pid: number, exeName: string, cgroupId: number, bootNs: number): Enrichment {
    this.events++;
    const at = bootNs > 0 ? bootNs : nowBootNs(); // 0: the probe could not stamp it
    const nowMs = this.advance(at);
    const a = cgroupId > 0 ? this.cgroups.resolve(cgroupId, nowMs) : undefined;
    out.timeUnixMs = this.clock.toUnixMs(at);
    out.process = pid > 0 ? this.processes.get(pid, exeName, nowMs) : exeName !== '' ? { pid: 0, executableName: exeName, commandLine: '' } : undefined;
    out.container = a?.container;
    out.nomad = a?.nomad !== undefined ? this.nomad.get(a.nomad, pid, nowMs, () => this.cgroups.anyPid(a.container.cgroupPath)) : undefined;
    return out;
  }

  /** Let `source` name cgroups the tree walk has not seen (yet); returns its removal. */
  addCgroupSource(source: CgroupPathSource): () => void {
    return this.cgroups.addSource(source);
  }

  /** Cache ages follow the newest stamp seen, so events from other CPUs arriving late never turn time back. */
  private advance(bootNs: number): number {
    if (bootNs > this.latestBootNs) this.latestBootNs = bootNs;
    return this.latestBootNs / 1e6;
  }

  stats(): EnricherStats {
    return { events: this.events, process: this.processes.stats(), cgroup: this.cgroups.stats(), nomad: this.nomad.stats() };
  }

  /** Stop re-sampling the clock (its timer never holds the process open, so this is tidiness). */
  close(): void {
    this.clock.stop();
  }
}
