/* Counting in the kernel: every figure a metric reports is added here to the interval's table,
 * so metrics stay exact whatever the ring buffer does. */
#ifndef NETWATCH_CONN_COUNT_H
#define NETWATCH_CONN_COUNT_H

#include "fill.h"

/* Which optional attributes split series (the receiver's `include`); zero keeps them out of keys. */
const volatile __u8 key_pid = 0;
const volatile __u8 key_peer_address = 0;
const volatile __u8 key_client_port = 0;
/* Histogram bounds (explicit, ascending, as the catalogue or the receiver sets them). */
const volatile __u32 duration_bounds = 0;
const volatile __u64 duration_bounds_ns[CONN_HIST_BUCKETS - 1] = {};
const volatile __u32 rtt_bounds = 0;
const volatile __u64 rtt_bounds_us[CONN_HIST_BUCKETS - 1] = {};

static __always_inline __u64 current_epoch(void)
{
  __u32 zero = 0;
  struct conn_control *c = bpf_map_lookup_elem(&control, &zero);
  return c ? c->epoch : 0;
}

static __always_inline bool baseline_pass(void)
{
  __u32 zero = 0;
  struct conn_control *c = bpf_map_lookup_elem(&control, &zero);
  return c && c->baseline;
}

/* The row of `k` in `table`, inserted when new; the table's overflow row when it is full. */
static __always_inline struct conn_counts *row_in(void *table, const struct conn_key *k)
{
  struct conn_counts *c = bpf_map_lookup_elem(table, k);
  if (c)
    return c;
  __u32 zero = 0;
  struct conn_counts *blank = bpf_map_lookup_elem(&zero_counts, &zero);
  if (blank && bpf_map_update_elem(table, k, blank, BPF_NOEXIST) == 0) {
    c = bpf_map_lookup_elem(table, k);
    if (c)
      return c;
  }
  c = bpf_map_lookup_elem(table, k); /* another CPU inserted it in between */
  if (c)
    return c;
  struct conn_key over = {.kind = CONN_KEY_OVERFLOW};
  return bpf_map_lookup_elem(table, &over); /* the agent keeps this row in both tables */
}

static __always_inline struct conn_counts *row(const struct conn_key *k)
{
  if (current_epoch() & 1)
    return row_in(&counts_1, k);
  return row_in(&counts_0, k);
}

/* The metric attributes of a socket: owner, transport, family, direction, ports, peer. */
static __always_inline void key_of(struct conn_key *k, const struct conn_owner *o, __u8 direction, __u8 protocol, __u16 family,
                                   __u16 lport, __u16 rport, const __u8 *raddr)
{
  k->cgroup_id = o->cgroup_id;
  k->exe_ino = o->exe_ino;
  k->exe_dev = o->exe_dev;
  k->tgid = key_pid ? o->tgid : 0;
  k->direction = direction;
  k->protocol = protocol;
  k->family = family;
  /* inbound (or unknown with no remote port yet): the server is local */
  bool inbound = direction == CONN_DIR_INBOUND || (direction == CONN_DIR_UNKNOWN && rport == 0);
  k->server_port = inbound ? lport : rport;
  k->client_port = key_client_port ? (inbound ? rport : lport) : 0;
  if (key_peer_address)
    __builtin_memcpy(k->peer, raddr, CONN_ADDR_LEN);
}

/* The counter key of a TCP socket the kernel holds: its owner and direction as this socket's
 * storage knows them, its family, ports and (when included) peer from the socket itself. */
static __always_inline void key_of_sock(struct conn_key *k, const struct sock *sk, const struct conn_sock *s)
{
  __u8 raddr[CONN_ADDR_LEN] = {};
  __u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
  __u16 lport = sock_lport(sk);
  __u16 rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
  if (key_peer_address) {
    if (family == NW_AF_INET)
      bpf_core_read(raddr, 4, &sk->__sk_common.skc_daddr);
    else
      bpf_core_read(raddr, 16, &sk->__sk_common.skc_v6_daddr);
  }
  key_of(k, &s->owner, s->direction, NW_IPPROTO_TCP, family, lport, rport, raddr);
}

/* Bucket of v under ascending bounds: the first bound >= v, or the last bucket (+Inf). */
static __always_inline __u32 bucket_of(__u64 v, const volatile __u64 *bounds, __u32 n)
{
  for (__u32 i = 0; i < CONN_HIST_BUCKETS - 1; i++) {
    if (i >= n)
      return i;
    if (v <= bounds[i])
      return i;
  }
  return CONN_HIST_BUCKETS - 1;
}

static __always_inline void observe_duration(struct conn_counts *c, __u64 ns)
{
  __u32 b = bucket_of(ns, duration_bounds_ns, duration_bounds);
  if (b < CONN_HIST_BUCKETS)
    __sync_fetch_and_add(&c->duration_buckets[b], 1);
  __sync_fetch_and_add(&c->duration_count, 1);
  __sync_fetch_and_add(&c->duration_sum_ns, ns);
}

static __always_inline void observe_rtt(struct conn_counts *c, __u64 us)
{
  __u32 b = bucket_of(us, rtt_bounds_us, rtt_bounds);
  if (b < CONN_HIST_BUCKETS)
    __sync_fetch_and_add(&c->rtt_buckets[b], 1);
  __sync_fetch_and_add(&c->rtt_count, 1);
  __sync_fetch_and_add(&c->rtt_sum_us, us);
}

/* What a monotonic counter gained since it was last reported, claimed exactly once even when the
 * close and the iterator race on two CPUs (the reported mark only moves forward). */
static __always_inline __u64 claim64(__u64 *reported, __u64 now)
{
  for (int i = 0; i < 4; i++) {
    __u64 old = *reported;
    if (now <= old)
      return 0;
    if (__sync_val_compare_and_swap(reported, old, now) == old)
      return now - old;
  }
  return 0; /* lost four races in a row: the winner counted up to a later value */
}

/* Add what the socket's counters gained since the last report to `c`. */
static __always_inline void flush_live(struct conn_counts *c, struct conn_sock *s, const struct conn_live *l)
{
  __u64 d = claim64(&s->sent_reported, l->sent);
  if (d)
    __sync_fetch_and_add(&c->bytes_sent, d);
  d = claim64(&s->received_reported, l->received);
  if (d)
    __sync_fetch_and_add(&c->bytes_received, d);
  d = claim64(&s->retrans_reported, l->retrans);
  if (d)
    __sync_fetch_and_add(&c->retransmits, d);
}

static __always_inline void count_transition(__u8 direction, int oldstate, int newstate)
{
  __u32 idx = ((__u32)direction * CONN_STATES + ((__u32)oldstate & (CONN_STATES - 1))) * CONN_STATES + ((__u32)newstate & (CONN_STATES - 1));
  __u64 *n = bpf_map_lookup_elem(&transitions, &idx);
  if (n)
    __sync_fetch_and_add(n, 1);
}

#endif
