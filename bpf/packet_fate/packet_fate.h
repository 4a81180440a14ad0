/* Wire layout of the packet_fate probe: the aggregation key the kernel counts under and the
 * sampled ring-buffer record — the one source of truth. src/receivers/packet_fate/layout.ts mirrors
 * both; test/unit/receivers/packet_fate/layout.test.ts checks every offset against this object's BTF. */
#ifndef NETWATCH_PACKET_FATE_H
#define NETWATCH_PACKET_FATE_H

#define FATE_COMM_LEN 16   /* TASK_COMM_LEN */
#define FATE_IFNAME_LEN 16 /* IFNAMSIZ */
#define FATE_ADDR_LEN 16   /* an IPv6 address; IPv4 uses the first 4 bytes */

enum fate_kind {
  FATE_KIND_DROP = 1,           /* skb/kfree_skb: the kernel freed a packet it did not deliver */
  FATE_KIND_RESET_SENT = 2,     /* tcp/tcp_send_reset */
  FATE_KIND_RESET_RECEIVED = 3, /* tcp/tcp_receive_reset */
  FATE_KIND_RETRANSMIT = 4,     /* tcp/tcp_retransmit_skb (sent), tcp/tcp_retransmit_synack */
};
/* Kinds index per-kind arrays directly (0 is unused). */
#define FATE_KINDS 5

/* fate_key.flags / fate_event.flags */
#define FATE_FLAG_OWNER_KNOWN 0x1      /* pid, comm and cgroup came from the conn probe's owner map */
#define FATE_FLAG_CGROUP_OF_SOCKET 0x2 /* only the cgroup is known, read from the socket (sk_cgrp_data) */

/* What the kernel counts under, per interval, in a per-CPU hash (one row per distinct key). */
struct fate_key {
  __u64 cgroup_id;  /* cgroup v2 id of the socket's owner (0 = unknown) */
  __u32 pid;        /* owner tgid (0 = unknown) */
  __u32 netns;      /* network namespace inode */
  __u32 ifindex;    /* interface of the packet (0 = none, e.g. before routing or for socket events) */
  __u32 reason;     /* drop: enum skb_drop_reason; reset sent: enum sk_rst_reason; else 0 */
  __u16 family;     /* AF_INET / AF_INET6, 0 when not IP */
  __u8 kind;        /* enum fate_kind */
  __u8 protocol;    /* IPPROTO_* of the packet or socket, 0 when unknown */
  __u8 state;       /* TCP state of the socket (resets, retransmits), 0 = unknown */
  __u8 flags;       /* FATE_FLAG_* */
  __u8 _pad[2];
  char comm[FATE_COMM_LEN];     /* owner's comm ('' = unknown) */
  char ifname[FATE_IFNAME_LEN]; /* name of ifindex at the time ('' = none) */
};

/* One sampled record (the first N per kind and interval), with what the key leaves out. */
struct fate_event {
  __u64 ts_ns;       /* bpf_ktime_get_boot_ns() */
  __u64 epoch;       /* interval the record was sampled in (the agent advances it) */
  __u64 sock;        /* struct sock * involved (0 = none) */
  __u64 cgroup_id;
  __u64 location;    /* drop: kernel address the packet was freed from (the caller of kfree_skb) */
  __u32 pid;
  __u32 tid;
  __u32 netns;
  __u32 ifindex;
  __u32 reason;
  __u32 len;         /* drop: skb->len */
  __u16 family;
  __u16 sport;       /* source port of the packet, host order (0 = none) */
  __u16 dport;       /* destination port of the packet, host order */
  __u8 kind;
  __u8 protocol;
  __u8 state;
  __u8 tcp_flags;    /* drop of a TCP segment: its flags byte (FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10) */
  __u8 flags;
  __u8 _pad[5];
  __u8 saddr[FATE_ADDR_LEN]; /* source address of the packet */
  __u8 daddr[FATE_ADDR_LEN]; /* destination address of the packet */
  char comm[FATE_COMM_LEN];
  char ifname[FATE_IFNAME_LEN];
};

/* The agent's side of the interval handshake (value of the `control` map). */
struct fate_control {
  __u64 epoch; /* bit 0 selects the table counted into (counts_0 / counts_1) */
};

#endif
