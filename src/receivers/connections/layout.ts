// Byte layouts of the conn probe's wire structs (bpf/conn/conn.h). A unit test checks every offset
// and size against the compiled object's BTF, so the two can never drift.

/** struct conn_owner, embedded in records and per-socket state. */
export const CONN_OWNER = {
  size: 32,
  fields: { cgroup_id: 0, exe_ino: 8, exe_dev: 16, tgid: 20, tid: 24, _pad: 28 },
} as const;

/** struct conn_event: a ring record (open: connect/accept; close: the lifecycle; state: opt-in). */
export const CONN_EVENT = {
  size: 136,
  fields: {
    ts_ns: 0,
    sock: 8,
    bytes_sent: 16,
    bytes_received: 24,
    duration_ns: 32,
    owner: 40,
    netns: 72,
    srtt_us: 76,
    retransmits: 80,
    error: 84,
    family: 88,
    lport: 90,
    rport: 92,
    states: 94,
    kind: 96,
    protocol: 97,
    oldstate: 98,
    newstate: 99,
    direction: 100,
    flags: 101,
    _pad: 102,
    laddr: 104,
    raddr: 120,
  },
} as const;

/** struct conn_key: a counter row's attributes (owner as compact ids). */
export const CONN_KEY = {
  size: 56,
  fields: {
    cgroup_id: 0,
    exe_ino: 8,
    exe_dev: 16,
    tgid: 20,
    peer: 24,
    server_port: 40,
    client_port: 42,
    family: 44,
    protocol: 46,
    direction: 47,
    kind: 48,
    state: 49,
    _pad: 50,
    error: 52,
  },
} as const;

/** Histogram buckets per row: CONN_HIST_BUCKETS - 1 explicit bounds at most, then +Inf. */
export const CONN_HIST_BUCKETS = 24;

/** struct conn_counts: a counter row's value (one per CPU). */
export const CONN_COUNTS = {
  size: 464,
  fields: {
    opened: 0,
    failed: 8,
    active: 16,
    bytes_sent: 24,
    bytes_received: 32,
    retransmits: 40,
    duration_count: 48,
    duration_sum_ns: 56,
    rtt_count: 64,
    rtt_sum_us: 72,
    duration_buckets: 80,
    rtt_buckets: 80 + 8 * CONN_HIST_BUCKETS,
  },
} as const;

/** struct conn_sock: per-socket state (socket-local storage). */
export const CONN_SOCK = {
  size: 80,
  fields: {
    start_ns: 0,
    alias: 8,
    owner: 16,
    sent_reported: 48,
    received_reported: 56,
    retrans_reported: 64,
    states: 72,
    direction: 74,
    flags: 75,
    _pad: 76,
  },
} as const;

/** struct conn_seed (value of the seeds map). */
export const CONN_SEED = { size: 56, fields: { start_ns: 0, alias: 8, owner: 16, direction: 48, _pad: 49 } } as const;

/** struct conn_exe_key (key of the exes map) and the value's length. */
export const CONN_EXE_KEY = { size: 16, fields: { ino: 0, dev: 8, _pad: 12 } } as const;
export const CONN_EXE_NAME_LEN = 64;
export const CONN_CGROUP_PATH_LEN = 256;
/** TCP states per axis of the transitions array ([direction][old][new]). */
export const CONN_STATES = 16;

export const CONN_COMM_LEN = 16;

/** enum conn_kind */
export const CONN_KIND = { CONNECT: 1, ACCEPT: 2, STATE: 3, CLOSE: 4 } as const;
/** enum conn_key_kind */
export const CONN_KEY_KIND = { CONN: 1, FAILED: 2, ACTIVE: 3, OVERFLOW: 4 } as const;
/** enum conn_direction */
export const CONN_DIR = { UNKNOWN: 0, OUTBOUND: 1, INBOUND: 2 } as const;
export const CONN_FLAG_OWNER_KNOWN = 0x1;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

/** struct sock_owner (value of the owners and seeds maps). */
export const SOCK_OWNER = {
  size: 56,
  fields: { start_ns: 0, cgroup_id: 8, alias: 16, pid: 24, tid: 28, direction: 32, _pad: 33, comm: 40 },
} as const;
