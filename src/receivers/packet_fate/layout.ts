// Byte layout of struct fate_key and struct fate_event (bpf/packet_fate/packet_fate.h). A unit
// test checks every offset and the sizes against the compiled object's BTF.
export const FATE_KEY = {
  size: 64,
  fields: {
    cgroup_id: 0,
    pid: 8,
    netns: 12,
    ifindex: 16,
    reason: 20,
    family: 24,
    kind: 26,
    protocol: 27,
    state: 28,
    flags: 29,
    _pad: 30,
    comm: 32,
    ifname: 48,
  },
} as const;

export const FATE_EVENT = {
  size: 144,
  fields: {
    ts_ns: 0,
    epoch: 8,
    sock: 16,
    cgroup_id: 24,
    location: 32,
    pid: 40,
    tid: 44,
    netns: 48,
    ifindex: 52,
    reason: 56,
    len: 60,
    family: 64,
    sport: 66,
    dport: 68,
    kind: 70,
    protocol: 71,
    state: 72,
    tcp_flags: 73,
    flags: 74,
    _pad: 75,
    saddr: 80,
    daddr: 96,
    comm: 112,
    ifname: 128,
  },
} as const;

/** struct fate_control (value of the `control` map). */
export const FATE_CONTROL = { size: 8, fields: { epoch: 0 } } as const;

export const FATE_COMM_LEN = 16;
export const FATE_IFNAME_LEN = 16;

/** enum fate_kind */
export const FATE_KIND = { DROP: 1, RESET_SENT: 2, RESET_RECEIVED: 3, RETRANSMIT: 4 } as const;
/** Per-kind arrays are indexed by the kind itself (0 unused). */
export const FATE_KINDS = 5;
export const FATE_FLAG_OWNER_KNOWN = 0x1;
export const FATE_FLAG_CGROUP_OF_SOCKET = 0x2;
/** Drop reasons below this can be ignored (bpf/packet_fate/maps.h). */
export const FATE_IGNORABLE_REASONS = 256;
/** Rows per kind of the overflow counter; the last one takes every larger reason. */
export const FATE_OVERFLOW_REASONS = 256;

export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMPV6 = 58;
