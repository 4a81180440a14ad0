// The typed records of the packet_fate probe: per-interval counts read from the kernel's tables
// (struct fate_key + its sum) and sampled records read from the ring (struct fate_event).
import type { NetworkType } from '../../wire/addr';
import type { TcpState } from '../../wire/tcp-states';

export type FateKind =
  /** skb/kfree_skb: the kernel freed a packet without delivering it, for `reason`. */
  | 'drop'
  /** tcp/tcp_send_reset: this host sent a TCP RST (`reason` says why, from enum sk_rst_reason). */
  | 'reset_sent'
  /** tcp/tcp_receive_reset: a local socket received a TCP RST from its peer. */
  | 'reset_received'
  /** tcp/tcp_retransmit_skb, tcp/tcp_retransmit_synack: a TCP segment was sent again. */
  | 'retransmit';

export const FATE_KIND_NAMES: readonly (FateKind | undefined)[] = [undefined, 'drop', 'reset_sent', 'reset_received', 'retransmit'];

/** What the packet or socket was: tcp/udp, icmp (ICMP or ICMPv6), unix (AF_UNIX socket buffers). */
export type FateTransport = 'tcp' | 'udp' | 'icmp' | 'unix';

/** What a count row and a sampled record both carry. */
export interface FateFields {
  kind: FateKind;
  /** Drop: the skb_drop_reason name (NETFILTER_DROP); reset sent: the sk_rst_reason name; else ''. */
  reason: string;
  /** ipv4/ipv6 when the packet or socket is IP. */
  networkType?: NetworkType;
  transport?: FateTransport;
  /** TCP state of the socket (resets, retransmits) when known. */
  state?: TcpState;
  /** Network namespace inode (0 when neither the packet nor a socket told). */
  netns: number;
  /** Interface the packet was on (0 / '' when it had none: before routing, socket-level events). */
  ifindex: number;
  interfaceName: string;
  /** Owner of the socket involved: pid 0 when unknown; cgroupId may be known without a pid. */
  pid: number;
  comm: string;
  cgroupId: number;
}

/** Events of one key in one interval, summed over CPUs. */
export interface FateCount extends FateFields {
  count: number;
  /** Counted while the interval's table was full: only kind and reason are kept. */
  overflow: boolean;
}

/** One of the first N records of its kind in an interval, with the packet's tuple. */
export interface FateSample extends FateFields {
  /** CLOCK_BOOTTIME ns when the kernel saw it. */
  bootNs: number;
  /** The interval (table epoch) it was sampled in. */
  epoch: number;
  /** struct sock * involved (0n = none). */
  sock: bigint;
  tid: number;
  /** Drop: the kernel text address the packet was freed from; 0n otherwise. */
  location: bigint;
  /** Drop: skb->len, the bytes of the packet as the kernel held it. */
  length: number;
  /** Source and destination of the packet ('' / 0 when not IP, ports 0 for protocols without). */
  sourceAddress: string;
  sourcePort: number;
  destinationAddress: string;
  destinationPort: number;
  /** Dropped TCP segment: its flags byte (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10). */
  tcpFlags: number;
}
