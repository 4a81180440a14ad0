/* Who did it (identity captured in the owner's context) and filling records from sockets (CO-RE). */
#ifndef NETWATCH_CONN_FILL_H
#define NETWATCH_CONN_FILL_H

#include "maps.h"

/* TCP states (include/net/tcp_states.h). */
#define NW_TCP_ESTABLISHED 1
#define NW_TCP_SYN_SENT 2
#define NW_TCP_SYN_RECV 3
#define NW_TCP_FIN_WAIT1 4
#define NW_TCP_FIN_WAIT2 5
#define NW_TCP_TIME_WAIT 6
#define NW_TCP_CLOSE 7
#define NW_TCP_CLOSE_WAIT 8
#define NW_TCP_LAST_ACK 9
#define NW_TCP_LISTEN 10
#define NW_TCP_CLOSING 11
/* States only reachable after ESTABLISHED: an error then is a reset, not a failed connect. */
#define NW_AFTER_ESTABLISHED                                                                                \
  ((1u << NW_TCP_ESTABLISHED) | (1u << NW_TCP_FIN_WAIT1) | (1u << NW_TCP_FIN_WAIT2) | (1u << NW_TCP_TIME_WAIT) | \
   (1u << NW_TCP_CLOSE_WAIT) | (1u << NW_TCP_LAST_ACK) | (1u << NW_TCP_CLOSING))
/* tcp_sock.srtt_us holds the smoothed RTT << 3 (net/ipv4/tcp_input.c, tcp_rtt_estimator). */
#define NW_SRTT_SHIFT 3
/* sk_shutdown bit set by tcp_fin() when the peer's FIN arrived (include/net/sock.h). */
#define NW_RCV_SHUTDOWN 1

/* Only report this process / cgroup (0 = everything): benchmarks, tests, debugging. */
const volatile __u32 filter_tgid = 0;
const volatile __u64 filter_cgroup_id = 0;
/* Never report this process (the agent itself, unless include_self). */
const volatile __u32 exclude_tgid = 0;

static __always_inline bool owner_filtered_out(__u32 tgid, __u64 cgroup_id)
{
  if (exclude_tgid && tgid == exclude_tgid)
    return true;
  if (filter_tgid && tgid != filter_tgid)
    return true;
  if (filter_cgroup_id && cgroup_id != filter_cgroup_id)
    return true;
  return false;
}

static __always_inline bool current_filtered_out(void)
{
  if (!filter_tgid && !filter_cgroup_id && !exclude_tgid)
    return false;
  return owner_filtered_out(bpf_get_current_pid_tgid() >> 32, bpf_get_current_cgroup_id());
}

/* An owner nobody captured is only filtered out when a filter asks for a particular one. */
static __always_inline bool sock_filtered_out(const struct conn_sock *s)
{
  if (!(s->flags & CONN_FLAG_OWNER_KNOWN))
    return filter_tgid || filter_cgroup_id;
  return owner_filtered_out(s->owner.tgid, s->owner.cgroup_id);
}

/* Remember the executable's name under its (inode, device), once. */
static __always_inline void remember_exe(const struct conn_owner *o, struct file *exe)
{
  struct conn_exe_key k = {.ino = o->exe_ino, .dev = o->exe_dev};
  if (bpf_map_lookup_elem(&exes, &k))
    return;
  struct conn_exe_name n = {};
  const unsigned char *name = BPF_CORE_READ(exe, f_path.dentry, d_name.name);
  bpf_probe_read_kernel_str(n.name, sizeof(n.name), name);
  bpf_map_update_elem(&exes, &k, &n, BPF_NOEXIST);
}

/* The current task as a socket's owner: tgid, thread, cgroup and executable, as of now. */
static __always_inline void owner_from_current(struct conn_owner *o)
{
  __u64 id = bpf_get_current_pid_tgid();
  o->tgid = id >> 32;
  o->tid = (__u32)id;
  o->cgroup_id = bpf_get_current_cgroup_id();
  struct task_struct *t = (struct task_struct *)bpf_get_current_task();
  struct file *exe = BPF_CORE_READ(t, mm, exe_file);
  if (!exe) {
    o->exe_ino = 0;
    o->exe_dev = 0;
    return;
  }
  o->exe_ino = BPF_CORE_READ(exe, f_inode, i_ino);
  o->exe_dev = BPF_CORE_READ(exe, f_inode, i_sb, s_dev);
  remember_exe(o, exe);
}

/* The legacy owner map's value (sni and packet_fate read it). */
static __always_inline void legacy_owner(struct sock_owner *lo, const struct conn_sock *s)
{
  lo->start_ns = s->start_ns;
  lo->cgroup_id = s->owner.cgroup_id;
  lo->alias = s->alias;
  lo->pid = s->owner.tgid;
  lo->tid = s->owner.tid;
  lo->direction = s->direction;
  bpf_get_current_comm(lo->comm, sizeof(lo->comm));
}

static __always_inline void fill_from_sock_state(struct conn_event *e, const struct conn_sock *s)
{
  e->owner = s->owner;
  e->direction = s->direction;
  e->flags = s->flags;
  e->states = s->states;
  if (s->alias)
    e->sock = s->alias;
}

static __always_inline __u32 sock_netns(const struct sock *sk)
{
  return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

static __always_inline __u32 current_netns(void)
{
  struct task_struct *t = (struct task_struct *)bpf_get_current_task();
  return BPF_CORE_READ(t, nsproxy, net_ns, ns.inum);
}

/* The local port, host order: inet_sport, which (unlike skc_num) survives the port's release when
 * a passive close ends (tcp_set_state(TCP_CLOSE) puts the port before the last transition's hooks
 * see it on some paths). */
static __always_inline __u16 sock_lport(const struct sock *sk)
{
  return bpf_ntohs(BPF_CORE_READ((const struct inet_sock *)sk, inet_sport));
}

/* Local/remote address and ports straight from the socket (network order on the wire). */
static __always_inline void fill_tuple_from_sock(struct conn_event *e, const struct sock *sk)
{
  e->family = BPF_CORE_READ(sk, __sk_common.skc_family);
  e->lport = sock_lport(sk);
  e->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
  if (e->family == NW_AF_INET) {
    bpf_core_read(e->laddr, 4, &sk->__sk_common.skc_rcv_saddr);
    bpf_core_read(e->raddr, 4, &sk->__sk_common.skc_daddr);
  } else {
    bpf_core_read(e->laddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
    bpf_core_read(e->raddr, 16, &sk->__sk_common.skc_v6_daddr);
  }
}

/* A socket's live counters, as payload bytes: bytes_sent less retransmissions, bytes_received less
 * the peer's FIN (one sequence number). */
struct conn_live {
  __u64 sent;
  __u64 received;
  __u32 retrans;
  __u32 srtt_us;
};

static __always_inline void read_live(struct conn_live *l, const struct sock *sk)
{
  const struct tcp_sock *tp = (const struct tcp_sock *)sk;
  l->sent = BPF_CORE_READ(tp, bytes_sent) - BPF_CORE_READ(tp, bytes_retrans);
  __u64 rcvd = BPF_CORE_READ(tp, bytes_received);
  if ((BPF_CORE_READ(sk, sk_shutdown) & NW_RCV_SHUTDOWN) && rcvd > 0)
    rcvd -= 1;
  l->received = rcvd;
  l->retrans = BPF_CORE_READ(tp, total_retrans);
  l->srtt_us = BPF_CORE_READ(tp, srtt_us) >> NW_SRTT_SHIFT;
}

/* The socket's inode number (what /proc/net/tcp and /proc/<pid>/fd show): struct socket is
 * embedded in struct socket_alloc right before its inode (net/socket.c, SOCK_INODE). */
static __always_inline __u64 sock_inode(const struct sock *sk)
{
  struct socket *so = BPF_CORE_READ(sk, sk_socket);
  if (!so)
    return 0;
  struct socket_alloc *sa = container_of(so, struct socket_alloc, socket);
  return BPF_CORE_READ(sa, vfs_inode.i_ino);
}

/* An inbound socket's owner, left by the accept tracepoint: move it into the socket's state. */
static __always_inline void adopt_accepted(struct conn_sock *s, __u64 key)
{
  if (s->flags & CONN_FLAG_OWNER_KNOWN)
    return;
  struct conn_owner *o = bpf_map_lookup_elem(&accepted, &key);
  if (!o)
    return;
  s->owner = *o;
  s->flags |= CONN_FLAG_OWNER_KNOWN;
  s->direction = CONN_DIR_INBOUND;
  bpf_map_delete_elem(&accepted, &key);
}

/* A socket seen for the first time mid-life (it predates the agent): its seed when the agent left
 * one; counters from now on (what it moved before the agent started is not ours to report). */
static __always_inline void adopt_existing(struct conn_sock *s, const struct sock *sk, int state, __u64 now)
{
  s->start_ns = now;
  s->states = (1u << state) | ((1u << state) & NW_AFTER_ESTABLISHED ? (1u << NW_TCP_ESTABLISHED) : 0);
  if (BPF_CORE_READ(sk, sk_protocol) == NW_IPPROTO_TCP) {
    struct conn_live l;
    read_live(&l, sk);
    s->sent_reported = l.sent;
    s->received_reported = l.received;
    s->retrans_reported = l.retrans;
  }
  __u64 ino = sock_inode(sk);
  struct conn_seed *seed = ino ? bpf_map_lookup_elem(&seeds, &ino) : NULL;
  if (!seed)
    return;
  s->start_ns = seed->start_ns;
  s->alias = seed->alias;
  s->direction = seed->direction;
  s->owner = seed->owner;
  if (seed->owner.tgid)
    s->flags |= CONN_FLAG_OWNER_KNOWN;
  bpf_map_delete_elem(&seeds, &ino);
}

#endif
