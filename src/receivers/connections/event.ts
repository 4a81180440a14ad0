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
  | 'existing';

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
  comm: string;
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
}
