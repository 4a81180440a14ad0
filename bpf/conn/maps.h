/* Maps and settings of the conn probe (README.md: who inserts, deletes and reads each). */
#ifndef NETWATCH_CONN_MAPS_H
#define NETWATCH_CONN_MAPS_H

#include "../include/netwatch.h"
#include "conn.h"
#include "owners.h"
#include "socks.h"

NW_DECLARE_RING()

/* socks: struct sock -> struct conn_sock. Created by connect, the SYN_SENT/LISTEN/SYN_RECV
 * transitions, adoption of a seed, and the iterator (sockets that predate the agent); freed with
 * the socket. No capacity to fill. Read by the sni probe's egress program (the agent shares the map). */
NW_DECLARE_SOCKS();

/* counts_0 / counts_1: conn_key -> conn_counts (per CPU), one table per interval, alternating on
 * bit 0 of control.epoch. The agent retires one, waits a grace period, then reads and deletes it. */
#define CONN_DECLARE_TABLE(name)                                  \
  struct {                                                        \
    __uint(type, BPF_MAP_TYPE_PERCPU_HASH);                       \
    __uint(max_entries, 8192); /* resized by the agent before load */ \
    __type(key, struct conn_key);                                 \
    __type(value, struct conn_counts);                            \
  } name SEC(".maps");
CONN_DECLARE_TABLE(counts_0)
CONN_DECLARE_TABLE(counts_1)

/* control[0]: the agent's epoch. Written by the agent; read by every counting hook. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct conn_control);
} control SEC(".maps");

/* transitions: [direction][oldstate][newstate] -> transitions (per CPU), cumulative: the agent
 * reports what each slot gained since its previous read. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 3 * CONN_STATES * CONN_STATES);
  __type(key, __u32);
  __type(value, __u64);
} transitions SEC(".maps");

/* zero_counts[0]: a zeroed conn_counts to insert rows from (too large for the BPF stack). */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct conn_counts);
} zero_counts SEC(".maps");

/* exes: (inode, device) of an executable -> its file name. Inserted (once) where an owner is
 * captured; LRU, never deleted; read by the agent to name executables, even after they exited. */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 16384);
  __type(key, struct conn_exe_key);
  __type(value, struct conn_exe_name);
} exes SEC(".maps");

/* cgroups: cgroup v2 id -> path, inserted by the cgroup_mkdir tracepoint the moment a cgroup
 * exists. LRU, not deleted at rmdir: a counter row may still name it until the next collection. */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 16384);
  __type(key, __u64);
  __type(value, struct conn_cgroup_path);
} cgroups SEC(".maps");

/* accepted: struct sock * -> owner, inserted by the accept exit tracepoints (which cannot reach
 * socket-local storage); moved into the socket's storage by its next transition, its close or
 * the iterator. LRU, so an entry whose socket we never see again ages out. */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536); /* resized by the agent before load */
  __type(key, __u64);
  __type(value, struct conn_owner);
} accepted SEC(".maps");

/* owners: struct sock * -> sock_owner, for the packet_fate probe (see owners.h): its classic
 * tracepoints cannot read socket-local storage. Inserted at SYN_SENT/LISTEN and accept, deleted at
 * close, and only when fill_owners is set (the agent sets it when a packet_fate receiver runs). */
NW_DECLARE_OWNERS();

/* Fill the owners map (set by the agent before load: a packet_fate receiver reads it). */
const volatile __u8 fill_owners = 1;

/* seeds: socket inode -> owner, for sockets that existed before the agent started. Inserted by
 * the agent at start; moved into socket storage (and deleted) at the socket's first transition
 * or iteration. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536); /* resized by the agent before load */
  __type(key, __u64);
  __type(value, struct conn_seed);
} seeds SEC(".maps");

#endif
