// Byte layout of the sni probe's records and flow map (bpf/sni/sni.h). A unit test checks every
// offset and size against the compiled object's BTF, so the two can never drift.
export const SNI_RECORD = {
  size: 4176,
  fields: {
    ts_ns: 0,
    cgroup_id: 8,
    pid: 16,
    ifindex: 20,
    seq: 24,
    isn: 28,
    wire_len: 32,
    cap_len: 36,
    sport: 38,
    dport: 40,
    kind: 42,
    family: 43,
    direction: 44,
    flags: 45,
    _pad: 46,
    saddr: 48,
    daddr: 64,
    payload: 80,
  },
} as const;

/** Bytes of a record before its payload: a record is exactly this plus cap_len long. */
export const SNI_RECORD_HLEN = SNI_RECORD.fields.payload;
/** SNI_CHUNK_LEN: payload bytes one record carries at most. */
export const SNI_CHUNK_LEN = 4096;
/** SNI_MAX_CHUNKS: records one packet may produce, so capture_bytes may not exceed their product. */
export const SNI_MAX_CHUNKS = 4;
export const SNI_MAX_CAPTURE_BYTES = SNI_CHUNK_LEN * SNI_MAX_CHUNKS;
/** max_entries of watched_ports. */
export const SNI_MAX_PORTS = 1024;

/** struct sni_flow_key: the flows map's key (the agent deletes finished flows by it). */
export const SNI_FLOW_KEY = {
  size: 40,
  fields: { saddr: 0, daddr: 16, sport: 32, dport: 34, family: 36, _pad: 37 },
} as const;

/** struct sni_flow: the flows map's value. */
export const SNI_FLOW = {
  size: 24,
  fields: { cgroup_id: 0, isn: 8, ifindex: 12, pid: 16, segments: 20, direction: 22, flags: 23 },
} as const;

/** enum sni_kind */
export const SNI_KIND = { SYN: 1, SEGMENT: 2 } as const;
/** enum sni_direction */
export const SNI_DIR = { INGRESS: 0, EGRESS: 1 } as const;
export const SNI_FLAG_OWNER_KNOWN = 0x1;
export const AF_INET = 2;
export const AF_INET6 = 10;

/** struct sni_hold: the syn_holds map's value (a held port); keyed, like held_syns, by a u16 port. */
export const SNI_HOLD = {
  size: 16,
  fields: { held_since_ns: 0, released_ns: 8 },
} as const;
