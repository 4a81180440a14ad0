// SPDX-License-Identifier: GPL-2.0
/* conn: every TCP/UDP connection on the host, with its owner. Entry points only; see
 * fill.h for how records are filled and maps.h for who writes and reads each map. */
#include "fill.h"

char LICENSE[] SEC("license") = "GPL";

/* Keeps struct conn_event in the object's BTF, where the layout test reads it. */
const struct conn_event *unused_conn_event __attribute__((unused));

/* Allow the connect() to proceed (cgroup/connect* return value). */
#define NW_CGROUP_ALLOW 1

static __always_inline void emit_connect(struct bpf_sock_addr *ctx, __u16 family)
{
  if (ctx->protocol != NW_IPPROTO_TCP && ctx->protocol != NW_IPPROTO_UDP)
    return;
  if (current_filtered_out())
    return;
  struct conn_event *e = nw_reserve(&events, &lost_events, sizeof(*e));
  if (!e)
    return;
  __builtin_memset(e, 0, sizeof(*e));
  e->ts_ns = bpf_ktime_get_boot_ns();
  e->kind = CONN_KIND_CONNECT;
  e->protocol = ctx->protocol;
  e->family = family;
  e->direction = CONN_DIR_OUTBOUND;
  e->flags = CONN_FLAG_OWNER_KNOWN;
  e->sock = (__u64)ctx->sk;
  e->netns = current_netns();
  e->rport = bpf_ntohs((__u16)ctx->user_port); /* user_port: network order in the low 16 bits */
  if (family == NW_AF_INET) {
    __u32 ip4 = ctx->user_ip4;
    __builtin_memcpy(e->raddr, &ip4, 4);
  } else {
    __u32 ip6[4];
    ip6[0] = ctx->user_ip6[0];
    ip6[1] = ctx->user_ip6[1];
    ip6[2] = ctx->user_ip6[2];
    ip6[3] = ctx->user_ip6[3];
    __builtin_memcpy(e->raddr, ip6, 16);
  }
  fill_current(e);
  nw_submit(&events, e);
}

SEC("cgroup/connect4")
int conn_connect4(struct bpf_sock_addr *ctx)
{
  emit_connect(ctx, NW_AF_INET);
  return NW_CGROUP_ALLOW;
}

SEC("cgroup/connect6")
int conn_connect6(struct bpf_sock_addr *ctx)
{
  emit_connect(ctx, NW_AF_INET6);
  return NW_CGROUP_ALLOW;
}

SEC("tracepoint/sock/inet_sock_set_state")
int conn_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
  if (ctx->protocol != NW_IPPROTO_TCP)
    return 0;
  __u64 key = (__u64)ctx->skaddr;
  __u64 now = bpf_ktime_get_boot_ns();
  int oldstate = ctx->oldstate, newstate = ctx->newstate;

  /* Learn the owner where it is knowable: active open and listen run in the owner's
   * syscall; a passive child (->SYN_RECV) runs in softirq, so only its start time is kept
   * and the accept tracepoints fill in the owner. */
  if (newstate == NW_TCP_SYN_SENT || newstate == NW_TCP_LISTEN) {
    struct sock_owner o = {};
    owner_from_current(&o, newstate == NW_TCP_SYN_SENT ? CONN_DIR_OUTBOUND : CONN_DIR_UNKNOWN, now);
    bpf_map_update_elem(&owners, &key, &o, BPF_ANY);
  } else if (newstate == NW_TCP_SYN_RECV) {
    struct sock_owner o = {};
    o.start_ns = now;
    o.direction = CONN_DIR_INBOUND;
    bpf_map_update_elem(&owners, &key, &o, BPF_NOEXIST);
  }

  const struct sock *sk = ctx->skaddr;
  struct sock_owner *o = bpf_map_lookup_elem(&owners, &key);
  if (!o)
    o = adopt_seed(key, sk);
  if (owner_filtered_out(o))
    goto out;

  struct conn_event *e = nw_reserve(&events, &lost_events, sizeof(*e));
  if (!e)
    goto out;
  __builtin_memset(e, 0, sizeof(*e));
  e->ts_ns = now;
  e->kind = newstate == NW_TCP_CLOSE ? CONN_KIND_CLOSE : CONN_KIND_STATE;
  e->protocol = NW_IPPROTO_TCP;
  e->sock = key;
  e->oldstate = oldstate;
  e->newstate = newstate;
  e->family = ctx->family;
  e->lport = ctx->sport;
  e->rport = ctx->dport;
  /* tracepoint ctx arrays cannot be addressed with an offset pointer: copy them with a helper */
  if (ctx->family == NW_AF_INET) {
    bpf_probe_read_kernel(e->laddr, 4, ctx->saddr);
    bpf_probe_read_kernel(e->raddr, 4, ctx->daddr);
  } else {
    bpf_probe_read_kernel(e->laddr, 16, ctx->saddr_v6);
    bpf_probe_read_kernel(e->raddr, 16, ctx->daddr_v6);
  }
  e->netns = sock_netns(sk);
  if (o) {
    fill_from_owner(e, o);
    if (o->start_ns)
      e->duration_ns = now - o->start_ns;
  }
  if (newstate == NW_TCP_CLOSE)
    fill_close_stats(e, sk);
  nw_submit(&events, e);
out:
  if (newstate == NW_TCP_CLOSE)
    bpf_map_delete_elem(&owners, &key);
  return 0;
}

/* accept()/accept4() returned fd: find its struct sock through the task's file table. */
static __always_inline int on_accept_exit(struct trace_event_raw_sys_exit *ctx)
{
  long fd = ctx->ret;
  if (fd < 0 || current_filtered_out())
    return 0;
  struct task_struct *t = (struct task_struct *)bpf_get_current_task();
  struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
  unsigned int max_fds = BPF_CORE_READ(fdt, max_fds);
  if ((unsigned long)fd >= max_fds)
    return 0;
  struct file **fds = BPF_CORE_READ(fdt, fd);
  struct file *f = NULL;
  bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
  if (!f)
    return 0;
  struct socket *so = BPF_CORE_READ(f, private_data);
  struct sock *sk = BPF_CORE_READ(so, sk);
  if (!sk)
    return 0;
  __u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
  if ((family != NW_AF_INET && family != NW_AF_INET6) || BPF_CORE_READ(sk, sk_protocol) != NW_IPPROTO_TCP)
    return 0;

  __u64 key = (__u64)sk;
  __u64 now = bpf_ktime_get_boot_ns();
  struct sock_owner o = {};
  struct sock_owner *prev = bpf_map_lookup_elem(&owners, &key);
  owner_from_current(&o, CONN_DIR_INBOUND, prev && prev->start_ns ? prev->start_ns : now);
  bpf_map_update_elem(&owners, &key, &o, BPF_ANY);

  struct conn_event *e = nw_reserve(&events, &lost_events, sizeof(*e));
  if (!e)
    return 0;
  __builtin_memset(e, 0, sizeof(*e));
  e->ts_ns = now;
  e->kind = CONN_KIND_ACCEPT;
  e->protocol = NW_IPPROTO_TCP;
  e->sock = key;
  e->direction = CONN_DIR_INBOUND;
  e->flags = CONN_FLAG_OWNER_KNOWN;
  e->newstate = BPF_CORE_READ(sk, __sk_common.skc_state);
  e->oldstate = e->newstate;
  e->netns = sock_netns(sk);
  fill_tuple_from_sock(e, sk);
  fill_current(e);
  nw_submit(&events, e);
  return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int conn_accept4_exit(struct trace_event_raw_sys_exit *ctx)
{
  return on_accept_exit(ctx);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int conn_accept_exit(struct trace_event_raw_sys_exit *ctx)
{
  return on_accept_exit(ctx);
}
