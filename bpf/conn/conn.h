/* Wire layout of the conn probe: ring records, counter keys and values, per-socket state.
 * src/receivers/connections/layout.ts mirrors it; test/unit/receivers/connections/layout.test.ts
 * checks every offset against the object's BTF. */
#ifndef NETWATCH_CONN_H
#define NETWATCH_CONN_H

#define CONN_COMM_LEN 16 /* TASK_COMM_LEN */
#define CONN_ADDR_LEN 16 /* an IPv6 address; IPv4 uses the first 4 bytes */
#define CONN_EXE_NAME_LEN 64
#define CONN_CGROUP_PATH_LEN 256
/* Histogram buckets per series: at most CONN_HIST_BUCKETS - 1 explicit bounds, plus the last (+Inf). */
#define CONN_HIST_BUCKETS 24
/* TCP states (include/net/tcp_states.h) and one more index for "none". */
#define CONN_STATES 16

enum conn_kind {
  CONN_KIND_CONNECT = 1, /* cgroup/connect4|6: a local process called connect() */
  CONN_KIND_ACCEPT = 2,  /* accept()/accept4() returned a TCP socket */
  CONN_KIND_STATE = 3,   /* a TCP state transition (only when emit_states is set) */
  CONN_KIND_CLOSE = 4,   /* the socket reached TCP_CLOSE: its whole lifecycle */
};

enum conn_direction {
  CONN_DIR_UNKNOWN = 0,
  CONN_DIR_OUTBOUND = 1,
  CONN_DIR_INBOUND = 2,
};

/* conn_event.flags / conn_sock.flags: the owner was captured where it was the current task. */
#define CONN_FLAG_OWNER_KNOWN 0x1

/* Who owned a socket, captured in the owner's own context (connect, listen, accept). */
struct conn_owner {
  __u64 cgroup_id; /* cgroup v2 id */
  __u64 exe_ino;   /* the executable's inode (task->mm->exe_file), 0 = none (kernel thread) */
  __u32 exe_dev;   /* ... and its device: (exe_ino, exe_dev) is the key of the exes map */
  __u32 tgid;
  __u32 tid;
  __u32 _pad;
};

/* A ring record: one when a connection opens (connect/accept), one when it closes. */
struct conn_event {
  __u64 ts_ns;          /* bpf_ktime_get_boot_ns() */
  __u64 sock;           /* struct sock * of the connection */
  __u64 bytes_sent;     /* close: payload bytes sent once (bytes_sent - bytes_retrans) */
  __u64 bytes_received; /* close: payload bytes received (bytes_received less the FIN) */
  __u64 duration_ns;    /* close: now - first sight of the socket (0 if never seen) */
  struct conn_owner owner;
  __u32 netns;          /* network namespace inode */
  __u32 srtt_us;        /* close: tcp_sock.srtt_us >> 3 */
  __u32 retransmits;    /* close: tcp_sock.total_retrans */
  __s32 error;          /* close: sk_err (positive errno), 0 = none */
  __u16 family;         /* AF_INET or AF_INET6 */
  __u16 lport;          /* local port, host byte order (0 before bind) */
  __u16 rport;          /* remote port, host byte order */
  __u16 states;         /* close: bit (1 << state) for every TCP state the socket entered */
  __u8 kind;            /* enum conn_kind */
  __u8 protocol;        /* IPPROTO_TCP or IPPROTO_UDP */
  __u8 oldstate;        /* TCP_* (state/close) */
  __u8 newstate;
  __u8 direction;       /* enum conn_direction */
  __u8 flags;           /* CONN_FLAG_* */
  __u16 _pad;
  __u8 laddr[CONN_ADDR_LEN];
  __u8 raddr[CONN_ADDR_LEN];
};

/* Per-socket state (socket-local storage: freed with the socket). */
struct conn_sock {
  __u64 start_ns;          /* first sight: connect, SYN_RECV, or adoption */
  __u64 alias;             /* non-zero: records name the socket by this id (seeded at agent start) */
  struct conn_owner owner;
  __u64 sent_reported;     /* payload bytes already counted (by the iterator or the close) */
  __u64 received_reported;
  __u64 retrans_reported;
  __u16 states;            /* bit per TCP state entered */
  __u8 direction;
  __u8 flags;              /* CONN_FLAG_* */
  __u32 _pad;
};

/* What a counter row is about. */
enum conn_key_kind {
  CONN_KEY_CONN = 1,     /* opened, bytes, retransmits, duration and RTT histograms */
  CONN_KEY_FAILED = 2,   /* connections that failed before established, by errno */
  CONN_KEY_ACTIVE = 3,   /* open sockets by state, counted by the iterator at collection */
  CONN_KEY_OVERFLOW = 4, /* everything that found its interval's table full (inserted by the agent) */
};

/* A counter row: a metric's attributes, the owner as compact ids. Fields a receiver does not
 * report (pid, peer address, client port) stay zero, so they do not split series. */
struct conn_key {
  __u64 cgroup_id;
  __u64 exe_ino;
  __u32 exe_dev;
  __u32 tgid;            /* only with process.pid included */
  __u8 peer[CONN_ADDR_LEN]; /* only with network.peer.address included */
  __u16 server_port;
  __u16 client_port;     /* only with client.port included */
  __u16 family;
  __u8 protocol;
  __u8 direction;
  __u8 kind;             /* enum conn_key_kind */
  __u8 state;            /* CONN_KEY_ACTIVE: the TCP state */
  __u16 _pad;
  __s32 error;           /* CONN_KEY_FAILED: the errno */
};

/* A counter row's value (per CPU). */
struct conn_counts {
  __u64 opened;
  __u64 failed;
  __u64 active;
  __u64 bytes_sent;
  __u64 bytes_received;
  __u64 retransmits;
  __u64 duration_count;
  __u64 duration_sum_ns;
  __u64 rtt_count;
  __u64 rtt_sum_us;
  __u64 duration_buckets[CONN_HIST_BUCKETS];
  __u64 rtt_buckets[CONN_HIST_BUCKETS];
};

/* Value of the seeds map: a socket that predates the agent, as the agent found it in /proc. */
struct conn_seed {
  __u64 start_ns;
  __u64 alias;          /* the id the agent reported it under ("existing"): records keep using it */
  struct conn_owner owner;
  __u8 direction;
  __u8 _pad[7];
};

/* Key of the exes map. */
struct conn_exe_key {
  __u64 ino;
  __u32 dev;
  __u32 _pad;
};

struct conn_exe_name {
  char name[CONN_EXE_NAME_LEN]; /* d_name of the executable, NUL-terminated */
};

struct conn_cgroup_path {
  char path[CONN_CGROUP_PATH_LEN]; /* relative to the cgroup2 root, as cgroup_mkdir reports it */
};

/* control[0]: bit 0 of epoch picks the counter table the kernel writes. */
struct conn_control {
  __u64 epoch;
  /* Nonzero during the agent's start-up pass of the socket iterator: it only takes each existing
   * socket's byte counters as its starting point, and counts nothing open (the first interval's
   * own pass does that, once). */
  __u64 baseline;
};

/* Value of the legacy owner map the sni and packet_fate probes read (their hooks cannot read
 * socket-local storage): who owns a socket. */
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
