/* Wire layout of the sni probe: ring-buffer records and the per-flow map. The one source of truth.
 * src/receivers/sni/layout.ts mirrors it; test/unit/receivers/sni/layout.test.ts checks every offset. */
#ifndef NETWATCH_SNI_H
#define NETWATCH_SNI_H

#define SNI_ADDR_LEN 16    /* an IPv6 address; IPv4 uses the first 4 bytes */
#define SNI_CHUNK_LEN 4096 /* payload bytes one record carries at most */
#define SNI_MAX_CHUNKS 4   /* records one packet may produce: 4 x 4096 = the largest capture budget */

enum sni_kind {
  SNI_KIND_SYN = 1,     /* a SYN without ACK to a watched port (a new connection attempt); no payload */
  SNI_KIND_SEGMENT = 2, /* payload bytes of a watched flow's client-to-server segment */
};

enum sni_direction {
  SNI_DIR_INGRESS = 0, /* seen arriving on the interface (TC ingress) */
  SNI_DIR_EGRESS = 1,  /* seen leaving the interface (TC egress) */
};

/* Set in sni_record.flags / sni_flow.flags when pid (and cgroup) came from the conn probe's socket storage. */
#define SNI_FLAG_OWNER_KNOWN 0x1

struct sni_record {
  __u64 ts_ns;       /* bpf_ktime_get_boot_ns() */
  __u64 cgroup_id;   /* cgroup v2 id of the local socket (egress only; 0 = unknown) */
  __u32 pid;         /* owner tgid of the local socket (0 = unknown) */
  __u32 ifindex;     /* interface the packet was seen on */
  __u32 seq;         /* TCP sequence number of payload[0] (SYN: the ISN) */
  __u32 isn;         /* the flow's ISN, as seen in its SYN */
  __u32 wire_len;    /* payload bytes the segment carried from payload[0] on (>= cap_len) */
  __u16 cap_len;     /* payload bytes in this record */
  __u16 sport;       /* client port, host byte order */
  __u16 dport;       /* server (watched) port, host byte order */
  __u8 kind;         /* enum sni_kind */
  __u8 family;       /* AF_INET or AF_INET6 */
  __u8 direction;    /* enum sni_direction */
  __u8 flags;        /* SNI_FLAG_* */
  __u16 _pad;
  __u8 saddr[SNI_ADDR_LEN]; /* client address */
  __u8 daddr[SNI_ADDR_LEN]; /* server address */
  __u8 payload[SNI_CHUNK_LEN]; /* only cap_len bytes are sent */
};

/* Key of the flows map: one client-to-server direction of a TCP connection. */
struct sni_flow_key {
  __u8 saddr[SNI_ADDR_LEN];
  __u8 daddr[SNI_ADDR_LEN];
  __u16 sport;       /* host byte order */
  __u16 dport;
  __u8 family;
  __u8 _pad[3];
};

/* Value of the flows map: a flow still waiting for its ClientHello. */
struct sni_flow {
  __u64 cgroup_id;
  __u32 isn;         /* sequence number of the SYN: stream offset 0 is isn + 1 */
  __u32 ifindex;     /* the interface and direction that saw the SYN own the flow */
  __u32 pid;
  __u16 segments;    /* payload segments captured so far */
  __u8 direction;
  __u8 flags;
};

/*
 * Value of the syn_holds map: a port whose SYNs are held (dropped, not refused) while the Nomad group
 * that serves it wakes (nomad_autostart `hold_syn`), so the client's TCP retransmits the SYN instead
 * of getting a RST. The agent writes zeros to arm a port and deletes the entry to disarm it.
 */
struct sni_hold {
  __u64 held_since_ns; /* bpf_ktime_get_boot_ns() of the first SYN held since armed (0 = none yet) */
  __u64 released_ns;   /* when a SYN found a socket listening on the port (0 = still holding) */
};

#endif
