// cgroup id → cgroup v2 path → container / Nomad task. The id the kernel reports
// (bpf_get_current_cgroup_id) is the inode number of the cgroup's directory in the cgroup2 mount.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { findMount } from '../kernel/mounts';
import { LruCache, LruStats } from './lru';
import type { ContainerInfo, ContainerRuntime } from './types';

/** Where a Nomad task runs, read from its cgroup; `key` names it in the Nomad cache. */
export interface NomadTaskRef {
  allocId: string;
  task: string;
  key: string;
}

export interface CgroupAttribution {
  container: ContainerInfo;
  nomad?: NomadTaskRef;
}

// runc's systemd driver names a container's unit "<ScopePrefix>-<id>.scope" (opencontainers/runc getUnitName); the prefixes:
// docker "docker", containerd CRI "cri-containerd" (getCgroupsPath: "slice:cri-containerd:id"), cri-o "crio" (cgmgr CrioPrefix), podman "libpod".
const SCOPE_PREFIXES: ReadonlyArray<readonly [string, ContainerRuntime]> = [
  ['docker-', 'docker'],
  ['cri-containerd-', 'containerd'],
  ['crio-', 'cri-o'],
  ['libpod-', 'podman'],
];
// cgroupfs drivers name the leaf by the bare id under a parent: docker "/docker/<id>", containerd CRI
// "<pod cgroup>/<id>" (getCgroupsPath: filepath.Join(cgroupsParent, id)) with kubelet's "/kubepods/<qos>/pod<uid>".
const HEX64 = /^[0-9a-f]{64}$/;
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
// Nomad on cgroup v2: <cgroup_parent, default nomad.slice>/{share,reserve}.slice/<alloc-id>.<task>.scope
// (hashicorp/nomad client/lib/cgroupslib: pathCG2, scopeCG2, SharePartition, ReservePartition).
const NOMAD_SCOPE = new RegExp(`^(${UUID})\\.(.+)\\.scope$`);
const NOMAD_PARTITIONS = new Set(['share.slice', 'reserve.slice']);

/** The container id when `seg` is "<prefix><64 hex>" or "<prefix><64 hex>.scope" (conmon's scopes never match: not hex). */
function scopedId(seg: string, prefix: string): string | undefined {
  if (!seg.startsWith(prefix)) return undefined;
  const end = seg.endsWith('.scope') ? seg.length - 6 : seg.length;
  const id = seg.slice(prefix.length, end);
  return HEX64.test(id) ? id : undefined;
}

/** Attribute a cgroup v2 path (relative to the mount, leading '/'); the deepest match wins. */
export function parseCgroupPath(cgroupPath: string): CgroupAttribution {
  const segs = cgroupPath.split('/').filter((s) => s !== '');
  let runtime: ContainerRuntime | undefined;
  let id: string | undefined;
  let unit: string | undefined;
  let nomad: NomadTaskRef | undefined;
  for (let i = segs.length - 1; i >= 0; i--) {
    // 0 <= i - 1 < i < segs.length.
    const seg = segs[i]!;
    const parent = i > 0 ? segs[i - 1]! : '';
    if (nomad === undefined && NOMAD_PARTITIONS.has(parent)) {
      const m = NOMAD_SCOPE.exec(seg);
      if (m) {
        // NOMAD_SCOPE's two groups are not optional: a match has both.
        nomad = { allocId: m[1]!, task: m[2]!, key: `${m[1]}.${m[2]}` };
        continue; // Nomad makes this directory itself: it is not a systemd unit
      }
    }
    if (unit === undefined && (seg.endsWith('.service') || seg.endsWith('.scope'))) unit = seg;
    if (runtime !== undefined) continue;
    for (const [prefix, rt] of SCOPE_PREFIXES) {
      const found = scopedId(seg, prefix);
      if (found) {
        runtime = rt;
        id = found;
        break;
      }
    }
    if (runtime === undefined && HEX64.test(seg)) {
      if (parent === 'docker') {
        runtime = 'docker';
        id = seg;
      } else if (segs.slice(0, i).some((s) => s === 'kubepods' || s.startsWith('kubepods'))) {
        runtime = 'containerd';
        id = seg;
      }
    }
  }
  if (runtime === undefined && nomad !== undefined) {
    runtime = 'nomad';
    id = `${nomad.allocId}/${nomad.task}`;
  }
  if (runtime === undefined && unit !== undefined) runtime = 'systemd';
  const container: ContainerInfo = { cgroupPath };
  if (runtime !== undefined) container.runtime = runtime;
  if (id !== undefined) container.id = id;
  if (unit !== undefined) container.unit = unit;
  Object.freeze(container);
  return nomad ? Object.freeze({ container, nomad: Object.freeze(nomad) }) : Object.freeze({ container });
}

export interface CgroupResolverOptions {
  /** The cgroup2 mount (default: found in /proc/self/mountinfo on first use). */
  root?: string;
  /** Parsed cgroups remembered (default 4096). */
  size?: number;
  /** Least time between two walks of the cgroup tree triggered by unknown ids (default 1 s). */
  minWalkIntervalMs?: number;
  /** Most cgroups indexed by one walk (default 65536): a bound on memory on pathological hosts. */
  maxIndexed?: number;
}

/** Somewhere else that may know a cgroup's path by id (the conn probe's table, filled at cgroup_mkdir). */
export type CgroupPathSource = (cgroupId: number) => string | undefined;

const UNRESOLVED: CgroupAttribution = Object.freeze({ container: Object.freeze({ cgroupPath: '', runtime: 'unknown' as const }) });

export class CgroupResolver {
  private readonly lru: LruCache<number, CgroupAttribution>;
  private readonly minWalkIntervalMs: number;
  private readonly maxIndexed: number;
  private root: string | null | undefined; // undefined: not looked up yet; null: no cgroup2 mount
  private index = new Map<number, string>();
  private lastWalkMs = -Infinity;
  private walks = 0;
  private unresolved = 0;
  private readonly sources = new Set<CgroupPathSource>();

  constructor(opts: CgroupResolverOptions = {}) {
    this.lru = new LruCache(opts.size ?? 4096);
    this.minWalkIntervalMs = opts.minWalkIntervalMs ?? 1_000;
    this.maxIndexed = opts.maxIndexed ?? 65_536;
    this.root = opts.root;
  }

  /** Attribution for a cgroup id at `nowMs` (monotonic ms; it paces re-walks). Unknown ids are not cached. */
  resolve(cgroupId: number, nowMs: number): CgroupAttribution {
    const hit = this.lru.get(cgroupId);
    if (hit !== undefined) return hit;
    const path = this.pathOf(cgroupId, nowMs);
    if (path === undefined) {
      this.unresolved++;
      return UNRESOLVED;
    }
    const a = parseCgroupPath(path);
    this.lru.set(cgroupId, a);
    return a;
  }

  /** Ask `source` about ids the index does not know; returns its removal. */
  addSource(source: CgroupPathSource): () => void {
    this.sources.add(source);
    return () => this.sources.delete(source);
  }

  /**
   * The path of a cgroup id relative to the mount: the index, then the sources (which know a cgroup
   * from the moment it is made, and after it is removed), then a walk of the tree when the id is new.
   */
  pathOf(cgroupId: number, nowMs: number): string | undefined {
    const known = this.index.get(cgroupId);
    if (known !== undefined) return known;
    for (const source of this.sources) {
      const p = source(cgroupId);
      if (p !== undefined) return p;
    }
    if (nowMs - this.lastWalkMs < this.minWalkIntervalMs) return undefined;
    this.lastWalkMs = nowMs;
    this.walk();
    return this.index.get(cgroupId);
  }

  /** Some process in the cgroup at `cgroupPath` (0: none, or the cgroup is gone). */
  anyPid(cgroupPath: string): number {
    const root = this.mount();
    if (root === null || cgroupPath === '') return 0;
    try {
      const first = readFileSync(`${root}${cgroupPath === '/' ? '' : cgroupPath}/cgroup.procs`, 'latin1').split('\n', 1)[0];
      return first ? Number(first) : 0;
    } catch {
      return 0;
    }
  }

  private mount(): string | null {
    if (this.root === undefined) this.root = findMount('cgroup2') ?? null;
    return this.root;
  }

  /** Rebuild the id → path index from scratch, so removed cgroups drop out. */
  private walk(): void {
    const root = this.mount();
    if (root === null) return;
    this.walks++;
    const index = new Map<number, string>();
    const stack: string[] = ['/'];
    while (stack.length > 0 && index.size < this.maxIndexed) {
      const rel = stack.pop()!;
      const abs = rel === '/' ? root : root + rel;
      try {
        index.set(statSync(abs).ino, rel);
        for (const d of readdirSync(abs, { withFileTypes: true })) {
          if (d.isDirectory()) stack.push(rel === '/' ? `/${d.name}` : `${rel}/${d.name}`);
        }
      } catch {
        // removed while we walked: skip it
      }
    }
    this.index = index;
  }

  stats(): LruStats & { walks: number; indexed: number; unresolved: number } {
    return { ...this.lru.stats(), walks: this.walks, indexed: this.index.size, unresolved: this.unresolved };
  }
}
