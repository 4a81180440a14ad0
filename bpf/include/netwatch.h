/* Shared by every probe: ring-buffer reservation with lost-event accounting. */
#ifndef NETWATCH_H
#define NETWATCH_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

/* Address families and protocols (include/linux/socket.h, include/uapi/linux/in.h). */
#define NW_AF_INET 2
#define NW_AF_INET6 10
#define NW_IPPROTO_TCP 6
#define NW_IPPROTO_UDP 17

/*
 * Every probe declares a ring buffer `events` and a per-CPU counter `lost_events`.
 * events:      kernel reserves/submits records; the agent's reader consumes them.
 * lost_events: kernel increments when bpf_ringbuf_reserve fails; the agent reads the sum.
 */
#define NW_DECLARE_RING()                                          \
  struct {                                                        \
    __uint(type, BPF_MAP_TYPE_RINGBUF);                           \
    __uint(max_entries, 1 << 22); /* resized by the agent before load */ \
  } events SEC(".maps");                                          \
  struct {                                                        \
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);                      \
    __uint(max_entries, 1);                                       \
    __type(key, __u32);                                           \
    __type(value, __u64);                                         \
  } lost_events SEC(".maps");

/* Wake the reader only once this many bytes wait; 0 = whenever it has caught up (the kernel's adaptive
 * wakeup). The reader also drains on a timer. */
const volatile __u64 wakeup_bytes = 0;

/* A record the ring had no room for. */
static __always_inline void nw_count_lost(void *lost)
{
  __u32 zero = 0;
  __u64 *n = bpf_map_lookup_elem(lost, &zero);
  if (n)
    *n += 1; /* per-CPU slot: no atomics needed */
}

static __always_inline void *nw_reserve(void *ring, void *lost, __u64 size)
{
  void *rec = bpf_ringbuf_reserve(ring, size, 0);
  if (!rec)
    nw_count_lost(lost);
  return rec;
}

/* Flags 0 let the kernel wake the reader only when this record is the first it has not read — it may
 * be asleep; a reader still busy finds the record by itself. Forcing a wakeup per record instead costs
 * the traced task an irq_work (a self-IPI, a VM exit under virtualisation) for every event. */
static __always_inline __u64 nw_wakeup_flags(void *ring)
{
  if (wakeup_bytes == 0)
    return 0;
  return bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

static __always_inline void nw_submit(void *ring, void *rec)
{
  bpf_ringbuf_submit(rec, nw_wakeup_flags(ring));
}

/* Copy a record built elsewhere (a per-CPU scratch buffer) into the ring, counting it when full. */
static __always_inline void nw_output(void *ring, void *lost, void *data, __u64 size)
{
  if (bpf_ringbuf_output(ring, data, size, nw_wakeup_flags(ring)) < 0)
    nw_count_lost(lost);
}

#endif
