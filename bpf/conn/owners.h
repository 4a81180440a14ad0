/* The socket-owner map, declared the same way by every probe that reads it: the conn probe fills
 * it; the sni and packet_fate objects reuse the conn probe's map (bpf_map__reuse_fd), so the
 * declarations must match exactly. Each probe's maps.h says who inserts, deletes and reads it. */
#ifndef NETWATCH_CONN_OWNERS_H
#define NETWATCH_CONN_OWNERS_H

#include "conn.h"

/* owners: struct sock * (u64) -> struct sock_owner. LRU, so sockets whose close was missed age out. */
#define NW_DECLARE_OWNERS()                                                          \
  struct {                                                                           \
    __uint(type, BPF_MAP_TYPE_LRU_HASH);                                             \
    __uint(max_entries, 65536); /* resized by the agent, or replaced by the conn probe's */ \
    __type(key, __u64);                                                              \
    __type(value, struct sock_owner);                                                \
  } owners SEC(".maps")

#endif
