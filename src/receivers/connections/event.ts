// The typed connection event, decoded from `struct conn_event` (bpf/conn/conn.h).

export type ConnEventKind =
  /** connect() called by a local process (TCP or UDP), from cgroup/connect4|6. Local port may be 0. */
  | 'connect'
  /** A TCP connection accepted by a local process (from the accept syscalls' exit tracepoints). */
  | 'accept'
  /** A TCP state transition (sock/inet_sock_set_state). */
  | 'state'
  /** A TCP socket reached CLOSE: carries bytes, RTT, retransmits, duration and error. */
  | 'close'
  /** A connection that already existed when the agent started (seeded from /proc/<pid>/net/*). */
  | 'existing'
  /** A counter row the kernel accumulated over an interval (`counts` says what it counts). */
  | 'count';

import type { NetworkType, Transport } from '../../wire/addr';
import type { TcpState } from '../../wire/tcp-states';

export type { NetworkType, Transport, TcpState };
export { TCP_STATES } from '../../wire/tcp-states';
export type Direction = 'outbound' | 'inbound' | 'unknown';

export interface ConnEvent {
  kind: ConnEventKind;
  /** CLOCK_BOOTTIME nanoseconds when the kernel saw it (converted to wall clock by src/enrich/clock). */
  bootNs: number;
  /** Kernel address of the socket (struct sock *): identifies the connection while it lives. */
  sock: bigint;
  /** Owner process (tgid) and thread; 0 when the kernel could not tell (see `direction`). */
  pid: number;
  tid: number;
  /** The owner's executable file name as the kernel saw it when it happened ('' unknown). */
  exe: string;
  /** cgroup v2 id of the owner. */
  cgroupId: number;
  /** Network namespace inode number. */
  netns: number;
  transport: Transport;
  networkType: NetworkType;
  direction: Direction;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  oldState: TcpState;
  newState: TcpState;
  /** close only: from tcp_sock (bytes_acked / bytes_received), srtt in microseconds, total_retrans. */
  bytesSent: number;
  bytesReceived: number;
  srttUs: number;
  retransmits: number;
  /** close only: ns since the connection was first seen by the kernel probe (0 if unknown). */
  durationNs: number;
  /** errno of the failure (sk_err at close, or the connect() error), 0 when none. */
  error: number;
  /** `count` only: what the kernel counted for these attributes over the interval. */
  counts: ConnCounts | undefined;
}

/** A histogram the kernel accumulated: counts per bucket of the metric's bounds, their sum and total. */
export interface KernelHistogram {
  readonly buckets: readonly number[];
  readonly sum: number;
  readonly count: number;
}

/**
 * What a counter row holds. `row` is the kind of row: `conn` (opened, bytes, retransmits,
 * duration and RTT), `failed` (by errno), `active` (open sockets in `newState` at collection),
 * `transitions` (from `oldState` to `newState`), `overflow` (rows that found the interval's table
 * full: everything, with no attributes), and `begin`, which starts each collection (so the open
 * sockets counted by the previous one can be forgotten).
 */
export interface ConnCounts {
  readonly row: 'conn' | 'failed' | 'active' | 'transitions' | 'overflow' | 'begin';
  readonly opened: number;
  readonly failed: number;
  readonly active: number;
  readonly transitions: number;
  readonly bytesSent: number;
  readonly bytesReceived: number;
  readonly retransmits: number;
  /** seconds */
  readonly duration: KernelHistogram | undefined;
  /** seconds */
  readonly rtt: KernelHistogram | undefined;
}
