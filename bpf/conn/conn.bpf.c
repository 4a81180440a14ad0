// SPDX-License-Identifier: GPL-2.0
/* conn: every TCP/UDP connection on the host, with its owner. Entry points only; fill.h captures
 * identities and fills records, count.h counts, maps.h says who writes and reads each map. */
#include "count.h"
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

/* Keep the wire structs in the object's BTF, where the layout test reads them. */
const struct conn_event *unused_conn_event __attribute__((unused));
const struct conn_key *unused_conn_key __attribute__((unused));
const struct conn_counts *unused_conn_counts __attribute__((unused));
const struct conn_sock *unused_conn_sock __attribute__((unused));
const struct conn_seed *unused_conn_seed __attribute__((unused));

/* Allow the connect() to proceed (cgroup/connect* return value). */
#define NW_CGROUP_ALLOW 1
/* Also write a record per TCP state transition (the state_change log event is on). */
const volatile __u8 emit_states = 0;

static __always_inline void emit_connect(struct bpf_sock_addr *ctx, __u16 family)
{
  if (ctx->protocol != NW_IPPROTO_TCP && ctx->protocol != NW_IPPROTO_UDP)
    return;
  if (current_filtered_out())
    return;
  struct bpf_sock *sk = ctx->sk;
  if (!sk)
    return;
  __u64 now = bpf_ktime_get_boot_ns();
  struct conn_owner o = {};
  owner_from_current(&o);
  struct conn_sock *s = bpf_sk_storage_get(&socks, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
  if (s) {
    s->owner = o;
    s->flags |= CONN_FLAG_OWNER_KNOWN;
    s->direction = CONN_DIR_OUTBOUND;
    if (!s->start_ns)
      s->start_ns = now;
  }
  __u8 raddr[CONN_ADDR_LEN] = {};
  if (family == NW_AF_INET) {
    __u32 ip4 = ctx->user_ip4;
    __builtin_memcpy(raddr, &ip4, 4);
  } else {
    __u32 ip6[4];
    ip6[0] = ctx->user_ip6[0];
    ip6[1] = ctx->user_ip6[1];
    ip6[2] = ctx->user_ip6[2];
    ip6[3] = ctx->user_ip6[3];
    __builtin_memcpy(raddr, ip6, 16);
  }
  __u16 rport = bpf_ntohs((__u16)ctx->user_port); /* user_port: network order in the low 16 bits */
  struct conn_key k = {.kind = CONN_KEY_CONN};
  key_of(&k, &o, CONN_DIR_OUTBOUND, ctx->protocol, family, 0, rport, raddr);
  struct conn_counts *c = row(&k);
  if (c)
    __sync_fetch_and_add(&c->opened, 1);

  struct conn_event *e = nw_reserve(&events, &lost_events, sizeof(*e));
  if (!e)
    return;
  __builtin_memset(e, 0, sizeof(*e));
  e->ts_ns = now;
  e->kind = CONN_KIND_CONNECT;
  e->protocol = ctx->protocol;
  e->family = family;
  e->direction = CONN_DIR_OUTBOUND;
  e->flags = CONN_FLAG_OWNER_KNOWN;
  e->sock = (__u64)sk;
  e->netns = current_netns();
  e->rport = rport;
  __builtin_memcpy(e->raddr, raddr, CONN_ADDR_LEN);
  e->owner = o;
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

/* The close: the lifecycle into the counters (bytes not yet flushed, duration, RTT, failure), and
 * one record carrying it. */
static __always_inline void on_close(struct sock *sk, struct conn_sock *s, int oldstate, __u64 now, __u32 netns)
{
  struct conn_live l;
  read_live(&l, sk);
  bool reached = (s->states | (1u << oldstate)) & NW_AFTER_ESTABLISHED;
  int err = BPF_CORE_READ(sk, sk_err);
  __u64 duration = s->start_ns ? now - s->start_ns : 0;

  struct conn_event *e = nw_reserve(&events, &lost_events, sizeof(*e));
  if (e) {
    __builtin_memset(e, 0, sizeof(*e));
    fill_tuple_from_sock(e, sk);
  }
  struct conn_key k = {.kind = CONN_KEY_CONN};
  key_of_sock(&k, sk, s);
  struct conn_counts *c = row(&k);
  if (c) {
    flush_live(c, s, &l);
    if (reached && duration)
      observe_duration(c, duration);
    if (reached && l.srtt_us)
      observe_rtt(c, l.srtt_us);
  }
  if (err && !reached) {
    k.kind = CONN_KEY_FAILED;
    k.error = err;
    c = row(&k);
    if (c)
      __sync_fetch_and_add(&c->failed, 1);
  }
  if (!e)
    return;
  e->ts_ns = now;
  e->kind = CONN_KIND_CLOSE;
  e->protocol = NW_IPPROTO_TCP;
  e->sock = (__u64)sk;
  e->oldstate = oldstate;
  e->newstate = NW_TCP_CLOSE;
  e->netns = netns;
  e->bytes_sent = l.sent;
  e->bytes_received = l.received;
  e->retransmits = l.retrans;
  e->srtt_us = l.srtt_us;
  e->error = err;
  e->duration_ns = duration;
  fill_from_sock_state(e, s);
  nw_submit(&events, e);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(conn_state, struct sock *sk, int oldstate, int newstate)
{
  if (BPF_CORE_READ(sk, sk_protocol) != NW_IPPROTO_TCP)
    return 0;
  __u64 key = (__u64)sk;
  __u64 now = bpf_ktime_get_boot_ns();

  /* Learn the owner where it is knowable: active open and listen run in the owner's syscall; a
   * passive child (->SYN_RECV) runs in softirq: its owner comes from the accept tracepoints. */
  struct conn_sock *s = bpf_sk_storage_get(&socks, sk, 0, 0);
  if (!s) {
    s = bpf_sk_storage_get(&socks, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
    if (!s)
      return 0;
    if (newstate == NW_TCP_SYN_SENT || newstate == NW_TCP_LISTEN || newstate == NW_TCP_SYN_RECV)
      s->start_ns = now;
    else
      adopt_existing(s, sk, oldstate, now);
  }
  if (newstate == NW_TCP_SYN_SENT || newstate == NW_TCP_LISTEN) {
    if (!(s->flags & CONN_FLAG_OWNER_KNOWN)) {
      owner_from_current(&s->owner);
      s->flags |= CONN_FLAG_OWNER_KNOWN;
    }
    if (newstate == NW_TCP_SYN_SENT)
      s->direction = CONN_DIR_OUTBOUND;
    if (fill_owners) {
      struct sock_owner lo = {};
      legacy_owner(&lo, s);
      bpf_map_update_elem(&owners, &key, &lo, BPF_ANY);
    }
  } else if (newstate == NW_TCP_SYN_RECV) {
    s->direction = CONN_DIR_INBOUND;
  }
  s->states |= 1u << (newstate & (CONN_STATES - 1));
  adopt_accepted(s, key);
  if (sock_filtered_out(s))
    goto out;

  count_transition(s->direction, oldstate, newstate);
  __u32 netns = sock_netns(sk);
  if (newstate == NW_TCP_CLOSE) {
    on_close(sk, s, oldstate, now, netns);
    goto out;
  }
  if (!emit_states)
    goto out;
  struct conn_event *e = nw_reserve(&events, &lost_events, sizeof(*e));
  if (!e)
    goto out;
  __builtin_memset(e, 0, sizeof(*e));
  e->ts_ns = now;
  e->kind = CONN_KIND_STATE;
  e->protocol = NW_IPPROTO_TCP;
  e->sock = key;
  e->oldstate = oldstate;
  e->newstate = newstate;
  e->netns = netns;
  fill_tuple_from_sock(e, sk);
  fill_from_sock_state(e, s);
  if (s->start_ns)
    e->duration_ns = now - s->start_ns;
  nw_submit(&events, e);
out:
  if (fill_owners && newstate == NW_TCP_CLOSE)
    bpf_map_delete_elem(&owners, &key);
  return 0;
}

/* accept()/accept4() returned fd: find its struct sock through the task's file table. This is a
 * classic tracepoint (no socket-local storage here): the owner waits in `accepted`. */
static __always_inline int on_accept_exit(struct trace_event_raw_sys_exit *ctx)
{
  long fd = ctx->ret;
  if (fd < 0)
    return 0;
  /* A process the filters leave out still gets its owner noted, so the socket's later transitions,
   * bytes and close are left out with it (not counted as a socket without owner). */
  bool filtered = current_filtered_out();
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
  struct conn_owner o = {};
  owner_from_current(&o);
  bpf_map_update_elem(&accepted, &key, &o, BPF_ANY);
  if (fill_owners) {
    struct sock_owner lo = {.start_ns = now, .cgroup_id = o.cgroup_id, .pid = o.tgid, .tid = o.tid, .direction = CONN_DIR_INBOUND};
    struct sock_owner *prev = bpf_map_lookup_elem(&owners, &key);
    if (prev && prev->start_ns)
      lo.start_ns = prev->start_ns;
    bpf_get_current_comm(lo.comm, sizeof(lo.comm));
    bpf_map_update_elem(&owners, &key, &lo, BPF_ANY);
  }
  if (filtered)
    return 0;

  struct conn_event *e = nw_reserve(&events, &lost_events, sizeof(*e));
  struct conn_event tuple = {};
  struct conn_event *t2 = e ? e : &tuple;
  __builtin_memset(t2, 0, sizeof(*t2));
  fill_tuple_from_sock(t2, sk);
  struct conn_key k = {.kind = CONN_KEY_CONN};
  key_of(&k, &o, CONN_DIR_INBOUND, NW_IPPROTO_TCP, t2->family, t2->lport, t2->rport, t2->raddr);
  struct conn_counts *c = row(&k);
  if (c)
    __sync_fetch_and_add(&c->opened, 1);
  if (!e)
    return 0;
  e->ts_ns = now;
  e->kind = CONN_KIND_ACCEPT;
  e->protocol = NW_IPPROTO_TCP;
  e->sock = key;
  e->direction = CONN_DIR_INBOUND;
  e->flags = CONN_FLAG_OWNER_KNOWN;
  e->newstate = BPF_CORE_READ(sk, __sk_common.skc_state);
  e->oldstate = e->newstate;
  e->netns = sock_netns(sk);
  e->owner = o;
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

/* A cgroup v2 directory was made: its id and path, the moment it exists. */
SEC("tracepoint/cgroup/cgroup_mkdir")
int conn_cgroup_mkdir(struct trace_event_raw_cgroup *ctx)
{
  if (ctx->root != 0) /* hierarchy 0 is cgroup v2 (cgrp_dfl_root) */
    return 0;
  __u64 id = ctx->id;
  __u32 loc = ctx->__data_loc_path;
  struct conn_cgroup_path *p = bpf_map_lookup_elem(&cgroups, &id);
  if (p)
    return 0;
  struct conn_cgroup_path fresh = {};
  bpf_probe_read_kernel_str(fresh.path, sizeof(fresh.path), (void *)ctx + (loc & 0xffff));
  bpf_map_update_elem(&cgroups, &id, &fresh, BPF_NOEXIST);
  return 0;
}

/* At each collection, for every TCP socket of one network namespace: the sockets that are open by
 * state, and the bytes, retransmits and RTT of connections still open (the close adds the rest). */
SEC("iter/tcp")
int conn_iter(struct bpf_iter__tcp *ctx)
{
  struct sock_common *skc = ctx->sk_common;
  if (!skc)
    return 0;
  struct tcp_sock *tp = bpf_skc_to_tcp_sock(skc);
  if (!tp)
    return 0; /* request and time-wait minisocks are not connections with state of their own */
  struct sock *sk = (struct sock *)tp;
  int state = BPF_CORE_READ(sk, __sk_common.skc_state);
  __u64 now = bpf_ktime_get_boot_ns();
  struct conn_sock *s = bpf_sk_storage_get(&socks, tp, 0, 0);
  if (!s) {
    s = bpf_sk_storage_get(&socks, tp, 0, BPF_SK_STORAGE_GET_F_CREATE);
    if (!s)
      return 0;
    adopt_existing(s, sk, state, now);
  }
  adopt_accepted(s, (__u64)sk);
  if (state == NW_TCP_LISTEN || sock_filtered_out(s))
    return 0;
  struct conn_live l;
  read_live(&l, sk);
  struct conn_key k = {.kind = CONN_KEY_CONN};
  key_of_sock(&k, sk, s);
  struct conn_counts *c = row(&k);
  bool baseline = baseline_pass();
  if (c) {
    flush_live(c, s, &l);
    if (!baseline && state == NW_TCP_ESTABLISHED && l.srtt_us)
      observe_rtt(c, l.srtt_us);
  }
  if (baseline)
    return 0;
  k.kind = CONN_KEY_ACTIVE;
  k.state = state;
  c = row(&k);
  if (c)
    __sync_fetch_and_add(&c->active, 1);
  return 0;
}
