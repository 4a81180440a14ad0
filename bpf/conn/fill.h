/* Filling conn_event records from the current task, the owner map and the socket (CO-RE). */
#ifndef NETWATCH_CONN_FILL_H
#define NETWATCH_CONN_FILL_H

#include "maps.h"

/* TCP states (include/net/tcp_states.h). */
#define NW_TCP_ESTABLISHED 1
#define NW_TCP_SYN_SENT 2
#define NW_TCP_SYN_RECV 3
#define NW_TCP_CLOSE 7
#define NW_TCP_LISTEN 10
/* tcp_sock.srtt_us holds the smoothed RTT << 3 (net/ipv4/tcp_input.c, tcp_rtt_estimator). */
#define NW_SRTT_SHIFT 3

/* Only report this process / cgroup (0 = everything). For benchmarks, tests and debugging. */
const volatile __u32 filter_tgid = 0;
const volatile __u64 filter_cgroup_id = 0;

static __always_inline bool current_filtered_out(void)
{
  if (filter_tgid && (bpf_get_current_pid_tgid() >> 32) != filter_tgid)
    return true;
  if (filter_cgroup_id && bpf_get_current_cgroup_id() != filter_cgroup_id)
    return true;
  return false;
}

static __always_inline bool owner_filtered_out(const struct sock_owner *o)
{
  if (!filter_tgid && !filter_cgroup_id)
    return false;
  if (!o)
    return true;
  return (filter_tgid && o->pid != filter_tgid) || (filter_cgroup_id && o->cgroup_id != filter_cgroup_id);
}

static __always_inline void fill_current(struct conn_event *e)
{
  __u64 id = bpf_get_current_pid_tgid();
  e->pid = id >> 32;
  e->tid = (__u32)id;
  e->cgroup_id = bpf_get_current_cgroup_id();
  bpf_get_current_comm(e->comm, sizeof(e->comm));
}

static __always_inline void owner_from_current(struct sock_owner *o, __u8 direction, __u64 now)
{
  __u64 id = bpf_get_current_pid_tgid();
  o->start_ns = now;
  o->pid = id >> 32;
  o->tid = (__u32)id;
  o->cgroup_id = bpf_get_current_cgroup_id();
  o->direction = direction;
  bpf_get_current_comm(o->comm, sizeof(o->comm));
}

static __always_inline void fill_from_owner(struct conn_event *e, const struct sock_owner *o)
{
  if (o->alias)
    e->sock = o->alias;
  e->pid = o->pid;
  e->tid = o->tid;
  e->cgroup_id = o->cgroup_id;
  e->direction = o->direction;
  __builtin_memcpy(e->comm, o->comm, sizeof(e->comm));
  if (o->pid)
    e->flags |= CONN_FLAG_OWNER_KNOWN;
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

/* Local/remote address and ports straight from sock_common (ports: skc_num is host order,
 * skc_dport network order). */
static __always_inline void fill_tuple_from_sock(struct conn_event *e, const struct sock *sk)
{
  e->family = BPF_CORE_READ(sk, __sk_common.skc_family);
  e->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
  e->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
  if (e->family == NW_AF_INET) {
    bpf_core_read(e->laddr, 4, &sk->__sk_common.skc_rcv_saddr);
    bpf_core_read(e->raddr, 4, &sk->__sk_common.skc_daddr);
  } else {
    bpf_core_read(e->laddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
    bpf_core_read(e->raddr, 16, &sk->__sk_common.skc_v6_daddr);
  }
}

/* sk_shutdown bit set by tcp_fin() when the peer's FIN arrived (include/net/sock.h). */
#define NW_RCV_SHUTDOWN 1

/* The counters a user wants at close (CO-RE reads of struct tcp_sock), as payload bytes:
 * bytes_sent counts retransmits, bytes_received counts the peer's FIN (one sequence number). */
static __always_inline void fill_close_stats(struct conn_event *e, const struct sock *sk)
{
  const struct tcp_sock *tp = (const struct tcp_sock *)sk;
  e->bytes_sent = BPF_CORE_READ(tp, bytes_sent) - BPF_CORE_READ(tp, bytes_retrans);
  __u64 rcvd = BPF_CORE_READ(tp, bytes_received);
  if ((BPF_CORE_READ(sk, sk_shutdown) & NW_RCV_SHUTDOWN) && rcvd > 0)
    rcvd -= 1;
  e->bytes_received = rcvd;
  e->srtt_us = BPF_CORE_READ(tp, srtt_us) >> NW_SRTT_SHIFT;
  e->retransmits = BPF_CORE_READ(tp, total_retrans);
  e->error = BPF_CORE_READ(sk, sk_err);
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

/* A socket we have no owner for may have been seeded by the agent at start: adopt it. */
static __always_inline struct sock_owner *adopt_seed(__u64 key, const struct sock *sk)
{
  __u64 ino = sock_inode(sk);
  if (!ino)
    return NULL;
  struct sock_owner *seed = bpf_map_lookup_elem(&seeds, &ino);
  if (!seed)
    return NULL;
  struct sock_owner o = *seed;
  bpf_map_update_elem(&owners, &key, &o, BPF_ANY);
  bpf_map_delete_elem(&seeds, &ino);
  return bpf_map_lookup_elem(&owners, &key);
}

#endif
