/* Maps of the sni probe. */
#ifndef NETWATCH_SNI_MAPS_H
#define NETWATCH_SNI_MAPS_H

#include "../include/netwatch.h"
#include "../conn/socks.h"
#include "sni.h"

NW_DECLARE_RING()

/*
 * watched_ports: server port (host byte order) -> 1.
 * Inserted and deleted by: the agent, at start and whenever the receiver's ports change (no re-attach).
 * Read by: both TC programs, for every TCP packet.
 */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024); /* SNI_MAX_PORTS in src/receivers/sni/layout.ts */
  __type(key, __u16);
  __type(value, __u8);
} watched_ports SEC(".maps");

/*
 * flows: client-to-server flows whose ClientHello is still being captured.
 * Inserted by: the TC program that sees a flow's SYN first (a new ISN resets the entry).
 * Deleted by: the TC program when the flow exceeds the byte or segment budget; the agent once the
 *   hello was parsed or the flow was given up (so later segments cost one lookup). LRU: flows
 *   that never send anything (scans, plain TCP) age out.
 * Read by: both TC programs, for every payload segment to a watched port.
 */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 16384); /* resized by the agent before load (max_flows) */
  __type(key, struct sni_flow_key);
  __type(value, struct sni_flow);
} flows SEC(".maps");

/*
 * socks: the conn probe's socket-local storage (struct conn_sock: the owner captured at connect)
 * when a connections receiver runs (the agent reuses its fd); otherwise this object's own, empty.
 * Created and updated by: the conn probe. Read by: the egress program, at a flow's SYN.
 */
NW_DECLARE_SOCKS();

/*
 * syn_holds: server port (host byte order) -> struct sni_hold; present = armed.
 * Inserted by: the agent, when a nomad_autostart rule with hold_syn knows its group is at 0 (zeros).
 * Updated by: the ingress program (first held SYN; the first SYN that finds a listener releases).
 * Deleted by: the agent, when the hold ends without a listener (wake failed, wait_timeout) or the group is up.
 * Read by: the ingress program, for every SYN to a watched port; the agent, while holding.
 */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024); /* SNI_MAX_PORTS: only watched ports can be held */
  __type(key, __u16);
  __type(value, struct sni_hold);
} syn_holds SEC(".maps");

/*
 * held_syns: server port -> SYNs dropped by a hold, per CPU; cumulative (never reset or deleted).
 * Inserted and updated by: the ingress program. Read by: the agent (netwatch.nomad.autostart.held_syns).
 */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(max_entries, 1024);
  __type(key, __u16);
  __type(value, __u64);
} held_syns SEC(".maps");

/*
 * scratch: one record being filled, per CPU (a 4 KiB record does not fit the 512-byte stack).
 * Written and read by: the TC programs only.
 */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct sni_record);
} scratch SEC(".maps");

#endif
