/* The socket-local storage of the conn probe, declared the same way by every probe that reads it:
 * the conn probe fills it; the sni object reuses the conn probe's map (bpf_map__reuse_fd), so the
 * declarations must match exactly. Each probe's maps.h says who creates, updates and reads it. */
#ifndef NETWATCH_CONN_SOCKS_H
#define NETWATCH_CONN_SOCKS_H

#include "conn.h"

/* socks: struct sock -> struct conn_sock (socket-local storage: freed with the socket, no capacity to fill). */
#define NW_DECLARE_SOCKS()                       \
  struct {                                       \
    __uint(type, BPF_MAP_TYPE_SK_STORAGE);       \
    __uint(map_flags, BPF_F_NO_PREALLOC);        \
    __type(key, int);                            \
    __type(value, struct conn_sock);             \
  } socks SEC(".maps")

#endif
