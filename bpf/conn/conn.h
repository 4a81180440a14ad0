/* Wire layout of the conn probe's ring-buffer records: the one source of truth.
 * src/receivers/connections/layout.ts mirrors it; test/unit/receivers/connections/layout.test.ts checks every offset. */
#ifndef NETWATCH_CONN_H
#define NETWATCH_CONN_H

#define CONN_COMM_LEN 16 /* TASK_COMM_LEN */
#define CONN_ADDR_LEN 16 /* an IPv6 address; IPv4 uses the first 4 bytes */

enum conn_kind {
  CONN_KIND_CONNECT = 1, /* cgroup/connect4|6: a local process called connect() */
  CONN_KIND_ACCEPT = 2,  /* accept()/accept4() returned a TCP socket */
  CONN_KIND_STATE = 3,   /* sock/inet_sock_set_state */
  CONN_KIND_CLOSE = 4,   /* inet_sock_set_state to TCP_CLOSE, with the socket's counters */
};

enum conn_direction {
  CONN_DIR_UNKNOWN = 0,
  CONN_DIR_OUTBOUND = 1,
  CONN_DIR_INBOUND = 2,
};

/* Set in conn_event.flags when the owner (pid/comm/cgroup) came from the owner map, not from
 * whatever task happened to be current (softirq context carries an unrelated task). */
#define CONN_FLAG_OWNER_KNOWN 0x1

struct conn_event {
  __u64 ts_ns;          /* bpf_ktime_get_boot_ns() */
  __u64 sock;           /* struct sock * of the connection: the key of the owner map */
  __u64 cgroup_id;      /* cgroup v2 id of the owner */
  __u64 bytes_sent;     /* close: payload bytes sent once (bytes_sent - bytes_retrans) */
  __u64 bytes_received; /* close: payload bytes received (bytes_received less the FIN) */
  __u64 duration_ns;    /* close: now - first sight of the socket (0 if never seen) */
  __u32 pid;            /* owner tgid (0 = unknown) */
  __u32 tid;            /* owner thread id */
  __u32 netns;          /* network namespace inode */
  __u32 srtt_us;        /* close: tcp_sock.srtt_us >> 3 */
  __u32 retransmits;    /* close: tcp_sock.total_retrans */
  __s32 error;          /* close: sk_err (positive errno), 0 = none */
  __u16 family;         /* AF_INET or AF_INET6 */
  __u16 lport;          /* local port, host byte order (0 before bind) */
  __u16 rport;          /* remote port, host byte order */
  __u8 kind;            /* enum conn_kind */
  __u8 protocol;        /* IPPROTO_TCP or IPPROTO_UDP */
  __u8 oldstate;        /* TCP_* from include/net/tcp_states.h (state/close) */
  __u8 newstate;
  __u8 direction;       /* enum conn_direction */
  __u8 flags;           /* CONN_FLAG_* */
  __u32 _pad;
  __u8 laddr[CONN_ADDR_LEN];
  __u8 raddr[CONN_ADDR_LEN];
  char comm[CONN_COMM_LEN];
};

/* Value of the owner map: who owns a socket, learnt where the owner is current. */
struct sock_owner {
  __u64 start_ns;
  __u64 cgroup_id;
  __u64 alias;          /* non-zero: report the socket under this key (seeded at agent start) */
  __u32 pid;
  __u32 tid;
  __u8 direction;
  __u8 _pad[7];
  char comm[CONN_COMM_LEN];
};

#endif
