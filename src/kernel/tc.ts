// TC (clsact) attachment through libbpf's bpf_tc_* API. The clsact qdisc is created only when the
// interface has none, and destroyed on detach only if this agent created it; otherwise only our
// filters are removed (by handle and priority), so whoever else uses the qdisc keeps theirs.
import { KernelError } from '../errors';
import { rootLogger } from '../log';
import { describeErrno, EEXIST, EINVAL, ENODEV, ENOENT } from './errno';
import { bpf } from './libbpf';

/** enum bpf_tc_attach_point (libbpf.h). */
export const BPF_TC_INGRESS = 1;
export const BPF_TC_EGRESS = 2;
export type TcDirection = 'ingress' | 'egress';

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

  private constructor(readonly ifindex: number, readonly name: string, readonly createdQdisc: boolean) {}

  /** Ensure a clsact qdisc on the interface (bpf_tc_hook_create: -EEXIST means someone else's). */
  static open(ifindex: number, name: string): TcHook {
    const ret = bpf.tc_hook_create(hook(ifindex, BPF_TC_INGRESS | BPF_TC_EGRESS)) as number;
    if (ret < 0 && -ret !== EEXIST) {
      throw new KernelError(`creating the clsact qdisc on ${name} failed: ${describeErrno(-ret)}`, -ret, 'bpf_tc_hook_create');
    }
    return new TcHook(ifindex, name, ret === 0);
  }

  /** Attach a sched_cls program (direct action) with a kernel-chosen handle and priority. */
  attach(progFd: number, direction: TcDirection, program: string): TcFilter {
    const o = opts(progFd);
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
