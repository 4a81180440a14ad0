// TC (clsact) attachment through libbpf's bpf_tc_* API — the fallback for kernels without TCX
// (tcx.ts). The clsact qdisc is created only when the interface has none, and destroyed on detach
// only if this agent created it; otherwise only our filters are removed (by handle and priority), so
// whoever else uses the qdisc keeps theirs. Filters outlive their process, so every one carries
// netwatch's own handle and priority: the next start finds what a killed agent left (sweepClsact).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { KernelError } from '../errors';
import { rootLogger } from '../log';
import { describeErrno, EEXIST, EINVAL, ENODEV, ENOENT } from './errno';
import { bpf } from './libbpf';
import { programHeldByAnotherProcess, programInfo } from './prog-info';
import type { TcDirection } from './tcx';

/** enum bpf_tc_attach_point (libbpf.h). */
export const BPF_TC_INGRESS = 1;
export const BPF_TC_EGRESS = 2;
export type { TcDirection };
/** netwatch's tag on its filters: the handle spells "nw" (0x6e77)… */
export const NETWATCH_TC_HANDLE = 0x6e77;
/** …at a priority (1..65535) late enough to run after the filters others put first. */
export const NETWATCH_TC_PRIORITY = 0xc177;

// struct bpf_tc_hook { size_t sz; int ifindex; enum attach_point; __u32 parent; size_t :0; }
const HOOK = { size: 24, sz: 0, ifindex: 8, attach_point: 12, parent: 16 } as const;
// struct bpf_tc_opts { size_t sz; int prog_fd; __u32 flags; __u32 prog_id; __u32 handle; __u32 priority; size_t :0; }
const OPTS = { size: 32, sz: 0, prog_fd: 8, flags: 12, prog_id: 16, handle: 20, priority: 24 } as const;

const log = rootLogger.child('tc');

function hook(ifindex: number, attachPoint: number): Buffer {
  const b = Buffer.alloc(HOOK.size);
  b.writeBigUInt64LE(BigInt(HOOK.size), HOOK.sz);
  b.writeInt32LE(ifindex, HOOK.ifindex);
  b.writeUInt32LE(attachPoint, HOOK.attach_point);
  return b;
}

function opts(progFd = 0, handle = 0, priority = 0): Buffer {
  const b = Buffer.alloc(OPTS.size);
  b.writeBigUInt64LE(BigInt(OPTS.size), OPTS.sz);
  b.writeInt32LE(progFd, OPTS.prog_fd);
  b.writeUInt32LE(handle, OPTS.handle);
  b.writeUInt32LE(priority, OPTS.priority);
  return b;
}

/** One BPF filter on one side of one interface's clsact qdisc. */
export interface TcFilter {
  readonly ifindex: number;
  readonly direction: TcDirection;
  readonly handle: number;
  readonly priority: number;
  readonly progId: number;
}

/**
 * The clsact hook of one interface and the filters this agent put on it. detach() removes exactly
 * those filters, and the qdisc too when this agent created it.
 */
export class TcHook {
  private readonly filters: TcFilter[] = [];
  private closed = false;

  private constructor(
    readonly ifindex: number,
    readonly name: string,
    readonly createdQdisc: boolean,
  ) {}

  /** Ensure a clsact qdisc on the interface (bpf_tc_hook_create: -EEXIST means someone else's). */
  static open(ifindex: number, name: string): TcHook {
    const ret = bpf.tc_hook_create(hook(ifindex, BPF_TC_INGRESS | BPF_TC_EGRESS)) as number;
    if (ret < 0 && -ret !== EEXIST) {
      throw new KernelError(`creating the clsact qdisc on ${name} failed: ${describeErrno(-ret)}`, -ret, 'bpf_tc_hook_create');
    }
    return new TcHook(ifindex, name, ret === 0);
  }

  /** Attach a sched_cls program (direct action) under netwatch's handle and priority. */
  attach(progFd: number, direction: TcDirection, program: string): TcFilter {
    const o = opts(progFd, NETWATCH_TC_HANDLE, NETWATCH_TC_PRIORITY);
    const ret = bpf.tc_attach(hook(this.ifindex, direction === 'ingress' ? BPF_TC_INGRESS : BPF_TC_EGRESS), o) as number;
    if (ret < 0) throw new KernelError(`attaching ${program} to ${this.name} ${direction} failed: ${describeErrno(-ret)}`, -ret, 'bpf_tc_attach', program);
    const f: TcFilter = {
      ifindex: this.ifindex,
      direction,
      handle: o.readUInt32LE(OPTS.handle),
      priority: o.readUInt32LE(OPTS.priority),
      progId: o.readUInt32LE(OPTS.prog_id),
    };
    this.filters.push(f);
    log.debug('attached', { program, interface: this.name, direction, handle: f.handle, priority: f.priority });
    return f;
  }

  get attached(): readonly TcFilter[] {
    return this.filters;
  }

  /**
   * Remove our filters, then the qdisc if we created it. An interface that vanished took both with
   * it (ENODEV/ENOENT/EINVAL are not failures then). Returns the problems met, never throws.
   */
  detach(): string[] {
    if (this.closed) return [];
    this.closed = true;
    const problems: string[] = [];
    for (const f of this.filters.splice(0)) {
      const ret = bpf.tc_detach(hook(this.ifindex, f.direction === 'ingress' ? BPF_TC_INGRESS : BPF_TC_EGRESS), opts(0, f.handle, f.priority)) as number;
      if (ret < 0 && ![ENOENT, ENODEV, EINVAL].includes(-ret)) problems.push(`detaching from ${this.name} ${f.direction}: ${describeErrno(-ret)}`);
    }
    if (this.createdQdisc) {
      // INGRESS|EGRESS together deletes the clsact qdisc itself (libbpf's __bpf_tc_hook_destroy).
      const ret = bpf.tc_hook_destroy(hook(this.ifindex, BPF_TC_INGRESS | BPF_TC_EGRESS)) as number;
      if (ret < 0 && ![ENOENT, ENODEV, EINVAL].includes(-ret)) problems.push(`removing the clsact qdisc of ${this.name}: ${describeErrno(-ret)}`);
    }
    for (const p of problems) log.warn(p);
    return problems;
  }
}

const SYS_NET = '/sys/class/net';

/** A filter a dead netwatch left, removed by sweepClsact. */
export interface SweptFilter {
  interface: string;
  direction: TcDirection;
  program: string;
}

function clsactFilterCount(name: string, direction: TcDirection): number {
  // libbpf cannot list filters; iproute2 (a run-time dependency) can.
  const out = execFileSync('tc', ['-j', 'filter', 'show', 'dev', name, direction], { encoding: 'utf8' });
  return (JSON.parse(out || '[]') as unknown[]).length;
}

/**
 * Remove the filters a killed netwatch left on clsact qdiscs: netwatch's handle and priority, a
 * program named in `programs`, and no live process holding that program. When an interface is left
 * with no filter at all, its clsact qdisc (most likely the dead agent's) goes too.
 */
export function sweepClsact(programs: readonly string[]): SweptFilter[] {
  const swept: SweptFilter[] = [];
  let names: string[];
  try {
    names = readdirSync(SYS_NET);
  } catch {
    return swept;
  }
  for (const name of names) {
    let ifindex: number;
    try {
      ifindex = Number(readFileSync(`${SYS_NET}/${name}/ifindex`, 'utf8'));
    } catch {
      continue;
    }
    let removedHere = false;
    for (const direction of ['ingress', 'egress'] as const) {
      const h = hook(ifindex, direction === 'ingress' ? BPF_TC_INGRESS : BPF_TC_EGRESS);
      const o = opts(0, NETWATCH_TC_HANDLE, NETWATCH_TC_PRIORITY);
      if ((bpf.tc_query(h, o) as number) < 0) continue; // no clsact, or nothing under our tag
      const info = programInfo(o.readUInt32LE(OPTS.prog_id));
      if (!info || !programs.includes(info.name) || programHeldByAnotherProcess(info.id)) continue;
      const ret = bpf.tc_detach(h, opts(0, NETWATCH_TC_HANDLE, NETWATCH_TC_PRIORITY)) as number;
      if (ret < 0) {
        log.warn('cannot remove a filter a previous netwatch left', { interface: name, direction, error: describeErrno(-ret) });
        continue;
      }
      swept.push({ interface: name, direction, program: info.name });
      removedHere = true;
    }
    if (removedHere && clsactFilterCount(name, 'ingress') === 0 && clsactFilterCount(name, 'egress') === 0) {
      bpf.tc_hook_destroy(hook(ifindex, BPF_TC_INGRESS | BPF_TC_EGRESS));
    }
  }
  return swept;
}
