/* Maps of the conn probe. */
#ifndef NETWATCH_CONN_MAPS_H
#define NETWATCH_CONN_MAPS_H

#include "../include/netwatch.h"
#include "conn.h"
#include "owners.h"

NW_DECLARE_RING()

/*
 * owners: struct sock * -> who owns it.
 * Inserted by: the CLOSE->SYN_SENT and ->LISTEN transitions (process context: current is the
 *   owner), the ->SYN_RECV transition of a passive child (owner not yet known, start time only),
 *   the accept exit tracepoints (current is the accepting process), and the agent itself when
 *   it seeds sockets that existed before it started.
 * Deleted by: the ->CLOSE transition (after the close record is written). LRU so that sockets
 *   whose close we never saw cannot fill it.
 * Read by: every state transition, to attribute softirq-context events to the real owner.
 */
NW_DECLARE_OWNERS();

/*
 * seeds: socket inode -> owner, for sockets that existed before the agent started.
 * Inserted by: the agent at start (from /proc/<pid>/fd and /proc/<pid>/net/tcp*).
 * Deleted by: the first state transition of that socket, which moves the entry into owners.
 * Read by: state transitions whose socket is not in owners.
 */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536); /* resized by the agent before load */
  __type(key, __u64);
  __type(value, struct sock_owner);
} seeds SEC(".maps");

#endif
