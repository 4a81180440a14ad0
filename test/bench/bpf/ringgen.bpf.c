// SPDX-License-Identifier: GPL-2.0
/* ringgen: the reader benchmark's kernel producer. Every getppid() of one process (the bench's
 * producer helper) emits records_per_hit fixed-size records into a ring buffer, reserved and
 * submitted with the agent's own helpers (bpf/include/netwatch.h), so the reader sees exactly
 * what a probe would hand it. Built by test/bench/Makefile only; the agent never loads it. */
#include "netwatch.h"
#include "conn.h"
#include "ringgen.h"

char LICENSE[] SEC("license") = "GPL";

/* Keeps struct ringgen_head in the object's BTF. */
const struct ringgen_head *unused_ringgen_head __attribute__((unused));

/* Only this process triggers the generator (0 = nobody): everyone else's getppid() costs one compare. */
const volatile __u32 target_tgid = 0;
/* Records per syscall (bpf_loop iterations): several per hit lift the producer past the syscall cost. */
const volatile __u32 records_per_hit = 16;
/* Bytes per record (a verifier-known constant once .rodata is frozen); default: a conn probe record. */
const volatile __u32 record_size = sizeof(struct conn_event);

NW_DECLARE_RING()

/*
 * produced: per-CPU count of records submitted.
 * Inserted by: nobody (array). Updated by: emit_one, per submitted record. Read by: the bench,
 * which checks produced + lost against the syscalls its producer made.
 */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} produced SEC(".maps");

static long emit_one(__u32 index, void *unused)
{
  struct ringgen_head *r = nw_reserve(&events, &lost_events, record_size);
  if (!r)
    return 0; /* counted as lost; keep going, as a probe would for the next event */
  __u32 zero = 0;
  __u64 *n = bpf_map_lookup_elem(&produced, &zero);
  r->magic = RINGGEN_MAGIC;
  r->index = index;
  r->seq = n ? *n : 0;
  if (n)
    *n += 1; /* per-CPU slot: no atomics needed */
  nw_submit(&events, r);
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int ringgen_hit(void *ctx)
{
  if (target_tgid == 0 || (bpf_get_current_pid_tgid() >> 32) != target_tgid)
    return 0;
  bpf_loop(records_per_hit, emit_one, NULL, 0);
  return 0;
}
