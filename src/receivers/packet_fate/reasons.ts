// Names of drop and reset reasons, from the running kernel's BTF (`enum skb_drop_reason`,
// `enum sk_rst_reason`) so a kernel that adds reasons needs no agent release. Names lose their
// enum prefix: SKB_DROP_REASON_NETFILTER_DROP is reported as NETFILTER_DROP, as the kernel's own
// tracepoint output and `perf`/`dropwatch` print it.
import { kernelEnums, type KernelEnum } from '../../kernel/btf';

const DROP_PREFIX = 'SKB_DROP_REASON_';
const RESET_PREFIX = 'SK_RST_REASON_';
const SUBSYS_PREFIX = 'SKB_DROP_REASON_SUBSYS_';
/** Subsystem drop reasons carry their subsystem in the high 16 bits (include/net/dropreason.h). */
const SUBSYS_SHIFT = 16;
const SUBSYS_CODE_MASK = 0xffff;
/** Enum members that bound or mask the reasons rather than name one. */
const NOT_REASONS = new Set(['MAX', 'SUBSYS_MASK']);

export class ReasonNames {
  private readonly dropByValue = new Map<number, string>();
  private readonly dropByName = new Map<string, number>();
  private readonly resetByValue = new Map<number, string>();
  private readonly subsystems = new Map<number, string>();

  /** From enum members as the kernel's BTF lists them (tests pass their own). */
  constructor(drop: KernelEnum | undefined, reset: KernelEnum | undefined, subsys: KernelEnum | undefined) {
    for (const [member, value] of drop ?? []) {
      if (!member.startsWith(DROP_PREFIX)) continue; // SKB_NOT_DROPPED_YET, SKB_CONSUMED: not drops
      const name = member.slice(DROP_PREFIX.length);
      if (NOT_REASONS.has(name)) continue;
      if (!this.dropByValue.has(value)) this.dropByValue.set(value, name);
      this.dropByName.set(name, value);
    }
    for (const [member, value] of reset ?? []) {
      const name = member.startsWith(RESET_PREFIX) ? member.slice(RESET_PREFIX.length) : member;
      if (NOT_REASONS.has(name)) continue;
      if (!this.resetByValue.has(value)) this.resetByValue.set(value, name);
    }
    for (const [member, value] of subsys ?? []) {
      if (member.startsWith(SUBSYS_PREFIX) && member !== `${SUBSYS_PREFIX}NUM`) this.subsystems.set(value, member.slice(SUBSYS_PREFIX.length));
    }
  }

  static fromKernel(): ReasonNames {
    const e = kernelEnums(['skb_drop_reason', 'sk_rst_reason', 'skb_drop_reason_subsys']);
    return new ReasonNames(e.skb_drop_reason, e.sk_rst_reason, e.skb_drop_reason_subsys);
  }

  /** NETFILTER_DROP; a subsystem's reason as <SUBSYS>_<code> (OPENVSWITCH_3); else UNKNOWN_<n>. */
  drop(value: number): string {
    const name = this.dropByValue.get(value);
    if (name !== undefined) return name;
    const subsys = this.subsystems.get(value >>> SUBSYS_SHIFT);
    if (subsys !== undefined && value >>> SUBSYS_SHIFT !== 0) return `${subsys}_${value & SUBSYS_CODE_MASK}`;
    return `UNKNOWN_${value}`;
  }

  /** NO_SOCKET, TCP_ABORT_ON_CLOSE, ...; UNKNOWN_<n> for values this kernel does not name. */
  reset(value: number): string {
    return this.resetByValue.get(value) ?? `UNKNOWN_${value}`;
  }

  /** The value of a drop reason name (without prefix), undefined when this kernel has none. */
  dropValue(name: string): number | undefined {
    return this.dropByName.get(name);
  }

  /** Every drop reason name of this kernel, in the enum's order. */
  dropNames(): string[] {
    return [...this.dropByName.keys()];
  }
}
