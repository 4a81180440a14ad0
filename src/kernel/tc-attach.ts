// How a probe puts its TC programs on an interface: TCX links where the kernel has them (owned by
// the agent's descriptors, gone when it dies), clsact filters otherwise (tagged, swept at the next
// start). A probe sees one attachment per interface whichever it is.
import { KernelFeatureError } from '../errors';
import { TcHook } from './tc';
import { TcxLink, tcxSupported, type TcDirection } from './tcx';

/** `auto`: TCX when the kernel has it, else clsact. */
export type TcAttachMode = 'auto' | 'tcx' | 'clsact';
export type TcMechanism = 'tcx' | 'clsact';

export interface TcProgram {
  fd: number;
  direction: TcDirection;
  name: string;
}

/** The mechanism `mode` means on this kernel; `tcx` on a kernel without it is an error. */
export function chooseTcMechanism(mode: TcAttachMode): TcMechanism {
  if (mode === 'clsact') return 'clsact';
  if (tcxSupported()) return 'tcx';
  if (mode === 'tcx') throw new KernelFeatureError('this kernel has no TCX (Linux 6.6+); use attach_mode: auto or clsact', 'tcx');
  return 'clsact';
}

/** A probe's programs on one interface. */
export class TcAttachment {
  private constructor(
    readonly mechanism: TcMechanism,
    private readonly links: TcxLink[],
    private readonly hook: TcHook | null,
  ) {}

  /** All of `programs` or none: a failure part-way detaches what was attached and throws. */
  static attach(mechanism: TcMechanism, ifindex: number, ifname: string, programs: readonly TcProgram[]): TcAttachment {
    if (mechanism === 'tcx') {
      const links: TcxLink[] = [];
      try {
        for (const p of programs) links.push(TcxLink.attach(p.fd, ifindex, ifname, p.direction, p.name));
      } catch (e) {
        for (const l of links) l.detach();
        throw e;
      }
      return new TcAttachment(mechanism, links, null);
    }
    const hook = TcHook.open(ifindex, ifname);
    try {
      for (const p of programs) hook.attach(p.fd, p.direction, p.name);
    } catch (e) {
      hook.detach();
      throw e;
    }
    return new TcAttachment(mechanism, [], hook);
  }

  /** Remove the programs (and a clsact qdisc this agent made); never throws. */
  detach(): void {
    for (const l of this.links) l.detach();
    this.hook?.detach();
  }
}
