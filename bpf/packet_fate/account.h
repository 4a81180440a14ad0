/* Counting every event into the interval's table, and sampling the first N per kind and interval
 * into the ring. */
#ifndef NETWATCH_PACKET_FATE_ACCOUNT_H
#define NETWATCH_PACKET_FATE_ACCOUNT_H

#include "packet.h"

/* The agent's epoch: bit 0 picks the table, the whole value stamps sampled records. */
static __always_inline __u64 current_epoch(void)
{
  __u32 zero = 0;
  struct fate_control *c = bpf_map_lookup_elem(&control, &zero);
  return c ? c->epoch : 0;
}

/* The interval's table is full: keep the count, under (kind, reason) only. */
static __always_inline void count_overflow(const struct fate_key *k)
{
  __u32 r = k->reason < FATE_OVERFLOW_REASONS ? k->reason : FATE_OVERFLOW_REASONS - 1;
  __u32 idx = (__u32)k->kind * FATE_OVERFLOW_REASONS + r;
  __u64 *n = bpf_map_lookup_elem(&overflow, &idx);
  if (n)
    *n += 1; /* per-CPU slot, and tracing programs do not nest on a CPU: no atomics needed */
}

static __always_inline void count_into(void *table, const struct fate_key *k)
{
  __u64 *n = bpf_map_lookup_elem(table, k);
  if (n) {
    *n += 1;
    return;
  }
  __u64 one = 1;
  if (bpf_map_update_elem(table, k, &one, BPF_NOEXIST) == 0)
    return;
  n = bpf_map_lookup_elem(table, k); /* another CPU inserted the key in between */
  if (n) {
    *n += 1;
    return;
  }
  count_overflow(k); /* the table is full */
}

static __always_inline void count(const struct fate_key *k, __u64 epoch)
{
  if (epoch & 1)
    count_into(&counts_1, k);
  else
    count_into(&counts_0, k);
}

/* One of the first sample_limit records of this kind in this interval (shared by all CPUs). */
static __always_inline bool sample_admitted(__u8 kind, __u64 epoch)
{
  if (!(sample_kinds & (1u << kind)) || sample_limit == 0)
    return false;
  __u32 idx = (__u32)(epoch & 1) * FATE_KINDS + kind;
  __u64 *used = bpf_map_lookup_elem(&sampled, &idx);
  if (!used || *used >= sample_limit) /* a plain read first: no contended atomic once it is spent */
    return false;
  return __sync_fetch_and_add(used, 1) < sample_limit;
}

/* A sampled record filled from the key, or NULL when the budget is spent or the ring is full. */
static __always_inline struct fate_event *sample_begin(const struct fate_key *k, __u32 tid, __u64 epoch, const void *sk)
{
  if (!sample_admitted(k->kind, epoch))
    return NULL;
  struct fate_event *e = nw_reserve(&events, &lost_events, sizeof(*e));
  if (!e)
    return NULL;
  __builtin_memset(e, 0, sizeof(*e));
  e->ts_ns = bpf_ktime_get_boot_ns();
  e->epoch = epoch;
  e->sock = (__u64)sk;
  e->cgroup_id = k->cgroup_id;
  e->pid = k->pid;
  e->tid = tid;
  e->netns = k->netns;
  e->ifindex = k->ifindex;
  e->reason = k->reason;
  e->family = k->family;
  e->kind = k->kind;
  e->protocol = k->protocol;
  e->state = k->state;
  e->flags = k->flags;
  __builtin_memcpy(e->comm, k->comm, sizeof(e->comm));
  __builtin_memcpy(e->ifname, k->ifname, sizeof(e->ifname));
  return e;
}

/* Every event: counted in this interval's table, then a sampled record when the budget allows. */
static __always_inline struct fate_event *account(const struct fate_key *k, __u32 tid, const void *sk)
{
  __u64 epoch = current_epoch();
  count(k, epoch);
  return sample_begin(k, tid, epoch, sk);
}

#endif
