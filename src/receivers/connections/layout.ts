// Byte layout of struct conn_event (bpf/conn/conn.h). A unit test checks every offset and the
// size against the compiled object's BTF, so the two can never drift.
export const CONN_EVENT = {
  size: 136,
  fields: {
    ts_ns: 0,
    sock: 8,
    cgroup_id: 16,
    bytes_sent: 24,
    bytes_received: 32,
    duration_ns: 40,
    pid: 48,
    tid: 52,
    netns: 56,
    srtt_us: 60,
    retransmits: 64,
    error: 68,
    family: 72,
    lport: 74,
    rport: 76,
    kind: 78,
    protocol: 79,
    oldstate: 80,
    newstate: 81,
    direction: 82,
    flags: 83,
    _pad: 84,
    laddr: 88,
    raddr: 104,
    comm: 120,
  },
} as const;

export const CONN_COMM_LEN = 16;

/** enum conn_kind */
export const CONN_KIND = { CONNECT: 1, ACCEPT: 2, STATE: 3, CLOSE: 4 } as const;
/** enum conn_direction */
export const CONN_DIR = { UNKNOWN: 0, OUTBOUND: 1, INBOUND: 2 } as const;
export const CONN_FLAG_OWNER_KNOWN = 0x1;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

/** struct sock_owner (value of the owners map). */
export const SOCK_OWNER = {
  size: 56,
  fields: { start_ns: 0, cgroup_id: 8, alias: 16, pid: 24, tid: 28, direction: 32, _pad: 33, comm: 40 },
} as const;
