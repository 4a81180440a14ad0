// TCX attachment (kernel 6.6+): one BPF link per program and side of an interface. The link is
// owned by the agent's descriptor, so the kernel detaches the program when the agent exits, however
// it died (kill -9, OOM, crash) — nothing is left running on the host's packets with no reader.
// libbpf 1.1 has no bpf_program__attach_tcx: bpf_link_create takes the ifindex as its target.
import { KernelError } from '../errors';
import { rootLogger } from '../log';
import { describeErrno } from './errno';
import { bpf, c } from './libbpf';

/** enum bpf_attach_type (include/uapi/linux/bpf.h). */
export const BPF_TCX_INGRESS = 46;
export const BPF_TCX_EGRESS = 47;
/** The loopback device has ifindex 1 in every network namespace (net/core/dev.c, loopback_net_init). */
const LOOPBACK_IFINDEX = 1;
/** More programs than any interface carries; the kernel answers ENOSPC beyond it. */
const MAX_QUERIED_PROGRAMS = 64;

export type TcDirection = 'ingress' | 'egress';

const log = rootLogger.child('tcx');

const attachType = (d: TcDirection): number => (d === 'ingress' ? BPF_TCX_INGRESS : BPF_TCX_EGRESS);

/** Ids of the programs attached through TCX to one side of an interface, in run order. */
export function tcxPrograms(ifindex: number, direction: TcDirection): number[] {
  const ids = new Uint32Array(MAX_QUERIED_PROGRAMS);
  const count = [MAX_QUERIED_PROGRAMS];
  const flags = [0];
  const ret = bpf.prog_query(ifindex, attachType(direction), 0, flags, ids, count) as number;
  if (ret < 0) throw new KernelError(`querying the TCX programs of ifindex ${ifindex} ${direction} failed: ${describeErrno(-ret)}`, -ret, 'bpf_prog_query');
  return [...ids.subarray(0, count[0])];
}

/** Whether this kernel has TCX: older kernels refuse the attach type in BPF_PROG_QUERY (EINVAL). */
export function tcxSupported(): boolean {
  try {
    tcxPrograms(LOOPBACK_IFINDEX, 'ingress');
    return true;
  } catch {
    return false;
  }
}

/** One program on one side of one interface through a TCX link. */
export class TcxLink {
  private fd: number;

  private constructor(
    fd: number,
    readonly ifindex: number,
    readonly direction: TcDirection,
    readonly program: string,
  ) {
    this.fd = fd;
  }

  /** Appended after the programs already there (no relative position, no revision check). */
  static attach(progFd: number, ifindex: number, ifname: string, direction: TcDirection, program: string): TcxLink {
    const fd = bpf.link_create(progFd, ifindex, attachType(direction), null) as number;
    if (fd < 0) throw new KernelError(`attaching ${program} to ${ifname} ${direction} (TCX) failed: ${describeErrno(-fd)}`, -fd, 'bpf_link_create', program);
    log.debug('attached', { program, interface: ifname, direction });
    return new TcxLink(fd, ifindex, direction, program);
  }

  /** Close the link: the kernel detaches the program (an interface that vanished took it already). */
  detach(): void {
    if (this.fd < 0) return;
    c.close(this.fd);
    this.fd = -1;
  }
}
