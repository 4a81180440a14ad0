/* Maps and settings of the packet_fate probe (see README.md for who inserts, deletes and reads). */
#ifndef NETWATCH_PACKET_FATE_MAPS_H
#define NETWATCH_PACKET_FATE_MAPS_H

#include "../include/netwatch.h"
#include "../conn/owners.h"
#include "packet_fate.h"

/* Drop reasons below this value can be ignored (the `ignored` array); the kernel's own enum ends
 * near 130, subsystem reasons (mac80211, openvswitch) sit above 1 << 16 and are never ignored. */
#define FATE_IGNORABLE_REASONS 256
/* Rows of the overflow counter per kind: one per reason, the last one for every larger reason. */
#define FATE_OVERFLOW_REASONS 256

/* Sampled records per kind and interval (0 = none); kinds without a log event get none. */
const volatile __u32 sample_limit = 0;
/* Bit (1 << kind) set: kind is sampled into the ring. */
const volatile __u32 sample_kinds = 0;

NW_DECLARE_RING()

/*
 * counts_0 / counts_1: fate_key -> packets (per CPU), one table per interval, alternating.
 * Inserted by: every hook, into the table that bit 0 of control.epoch selects.
 * Deleted by: the agent, after it switched to the other table and a grace period passed (so no
 *   program still writes the retired one): read and deleted in one pass (lookup_and_delete_batch).
 * Read by: the agent, once per interval. Full -> the key's count goes to `overflow`.
 */
#define FATE_DECLARE_TABLE(name)                                  \
  struct {                                                        \
    __uint(type, BPF_MAP_TYPE_PERCPU_HASH);                       \
    __uint(max_entries, 16384); /* resized by the agent before load */ \
    __type(key, struct fate_key);                                 \
    __type(value, __u64);                                         \
  } name SEC(".maps");
FATE_DECLARE_TABLE(counts_0)
FATE_DECLARE_TABLE(counts_1)

/*
 * overflow: (kind, reason) -> packets (per CPU) that found their interval's table full.
 * Inserted/updated by: every hook, only when the table is full. Never deleted: cumulative.
 * Read by: the agent each interval (the difference to its previous read).
 */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, FATE_KINDS * FATE_OVERFLOW_REASONS);
  __type(key, __u32);
  __type(value, __u64);
} overflow SEC(".maps");

/*
 * control: the agent's current epoch (array[1]).
 * Written by: the agent at start and at every interval. Read by: every hook.
 */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct fate_control);
} control SEC(".maps");

/*
 * sampled: records sampled per (table, kind): the budget of the interval, shared by all CPUs.
 * Incremented by: every hook (atomically) before it writes a sample.
 * Reset by: the agent, with the table it retires. Read by: the hooks.
 */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 2 * FATE_KINDS);
  __type(key, __u32);
  __type(value, __u64);
} sampled SEC(".maps");

/*
 * ignored: drop reason -> 1 when the configuration ignores it (neither counted nor sampled).
 * Written by: the agent before it attaches the programs. Read by: the kfree_skb hook.
 */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, FATE_IGNORABLE_REASONS);
  __type(key, __u32);
  __type(value, __u8);
} ignored SEC(".maps");

/*
 * owners: struct sock * -> its owner: the conn probe's map, shared through bpf_map__reuse_fd when
 * a connections receiver runs (otherwise this object's own map, which nobody fills).
 * Inserted/deleted by: the conn probe (bpf/conn/maps.h). Read by: every hook here.
 */
NW_DECLARE_OWNERS();

#endif
