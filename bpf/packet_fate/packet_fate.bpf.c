// SPDX-License-Identifier: GPL-2.0
/* packet_fate: why the kernel dropped packets, and where TCP resets and retransmits happen.
 * Entry points only; packet.h reads packets and sockets, account.h counts and samples, maps.h
 * says who writes and reads each map. */
#include "account.h"

char LICENSE[] SEC("license") = "GPL";

/* Keep the wire structs in the object's BTF, where the layout test reads them. */
const struct fate_event *unused_fate_event __attribute__((unused));
const struct fate_key *unused_fate_key __attribute__((unused));

/* TCP_SYN_RECV (include/net/tcp_states.h): the state a retransmitted SYN-ACK belongs to. */
#define NW_TCP_SYN_RECV 3

SEC("tracepoint/skb/kfree_skb")
int fate_kfree_skb(struct trace_event_raw_kfree_skb *ctx)
{
  __u32 reason = ctx->reason;
  if (reason < FATE_IGNORABLE_REASONS) {
    __u8 *ign = bpf_map_lookup_elem(&ignored, &reason);
    if (ign && *ign)
      return 0;
  }
  const struct sk_buff *skb = ctx->skbaddr;
  struct fate_key k = {};
  __u32 tid = 0;
  k.kind = FATE_KIND_DROP;
  k.reason = reason;
  key_from_dev(&k, BPF_CORE_READ(skb, dev));
  /* rx_sk: the socket the receive path found (6.11+); else the skb's owner (sending side). */
  const struct sock *sk = NULL;
  if (bpf_core_field_exists(ctx->rx_sk))
    sk = ctx->rx_sk;
  if (!sk)
    sk = BPF_CORE_READ(skb, sk);
  if (sk && !k.netns)
    k.netns = sock_netns(sk);
  const unsigned char *ip = key_from_ip(&k, skb, ctx->protocol);
  if (!ip && sk)
    k.family = BPF_CORE_READ(sk, __sk_common.skc_family); /* e.g. AF_UNIX */
  key_owner(&k, &tid, sk);

  struct fate_event *e = account(&k, tid, sk);
  if (!e)
    return 0;
  e->location = (__u64)ctx->location;
  e->len = BPF_CORE_READ(skb, len);
  if (ip)
    event_tuple_from_ip(e, skb, ip);
  nw_submit(&events, e);
  return 0;
}

SEC("tracepoint/tcp/tcp_send_reset")
int fate_send_reset(struct trace_event_raw_tcp_send_reset *ctx)
{
  const struct sock *sk = ctx->skaddr;     /* NULL when no socket matched (a closed port) */
  const struct sk_buff *skb = ctx->skbaddr; /* NULL for active resets (close, abort, timeout) */
  struct fate_key k = {};
  __u32 tid = 0;
  __u16 family = 0;
  bpf_probe_read_kernel(&family, sizeof(family), ctx->saddr); /* sa_family of the sockaddr */
  k.kind = FATE_KIND_RESET_SENT;
  k.protocol = NW_IPPROTO_TCP;
  k.family = family;
  k.state = ctx->state;
  if (bpf_core_field_exists(ctx->reason))
    k.reason = ctx->reason;
  if (skb)
    key_from_dev(&k, BPF_CORE_READ(skb, dev));
  if (sk && !k.netns)
    k.netns = sock_netns(sk);
  key_owner(&k, &tid, sk);

  struct fate_event *e = account(&k, tid, sk);
  if (!e)
    return 0;
  /* The tracepoint stores the reset's own direction: saddr is this host's end. */
  sockaddr_into(ctx->saddr, family, e->saddr, &e->sport);
  sockaddr_into(ctx->daddr, family, e->daddr, &e->dport);
  if (skb)
    e->len = BPF_CORE_READ(skb, len);
  nw_submit(&events, e);
  return 0;
}

/* The socket tuple of the tcp tracepoints (saddr is the local end) into a record, in the
 * packet's direction: outgoing (local -> peer) or incoming (peer -> local). */
#define TUPLE_INTO(e, ctx, incoming)                                            \
  do {                                                                          \
    __u8 *src = (incoming) ? (e)->daddr : (e)->saddr;                           \
    __u8 *dst = (incoming) ? (e)->saddr : (e)->daddr;                           \
    if ((ctx)->family == NW_AF_INET) {                                          \
      bpf_probe_read_kernel(src, 4, (ctx)->saddr);                              \
      bpf_probe_read_kernel(dst, 4, (ctx)->daddr);                              \
    } else {                                                                    \
      bpf_probe_read_kernel(src, 16, (ctx)->saddr_v6);                          \
      bpf_probe_read_kernel(dst, 16, (ctx)->daddr_v6);                          \
    }                                                                           \
    (e)->sport = (incoming) ? (ctx)->dport : (ctx)->sport;                      \
    (e)->dport = (incoming) ? (ctx)->sport : (ctx)->dport;                      \
  } while (0)

/* Socket events: the key from the socket itself. */
static __always_inline void key_from_sock(struct fate_key *k, __u32 *tid, const struct sock *sk, __u8 kind, __u16 family)
{
  k->kind = kind;
  k->protocol = NW_IPPROTO_TCP;
  k->family = family;
  if (!sk)
    return;
  k->netns = sock_netns(sk);
  key_owner(k, tid, sk);
}

SEC("tracepoint/tcp/tcp_receive_reset")
int fate_receive_reset(struct trace_event_raw_tcp_event_sk *ctx)
{
  const struct sock *sk = ctx->skaddr;
  struct fate_key k = {};
  __u32 tid = 0;
  key_from_sock(&k, &tid, sk, FATE_KIND_RESET_RECEIVED, ctx->family);
  if (sk)
    k.state = BPF_CORE_READ(sk, __sk_common.skc_state);

  struct fate_event *e = account(&k, tid, sk);
  if (!e)
    return 0;
  TUPLE_INTO(e, ctx, 1);
  nw_submit(&events, e);
  return 0;
}

SEC("tracepoint/tcp/tcp_retransmit_skb")
int fate_retransmit(struct trace_event_raw_tcp_retransmit_skb *ctx)
{
  /* err (6.13+): an attempt that failed locally put nothing on the wire. */
  if (bpf_core_field_exists(ctx->err) && ctx->err != 0)
    return 0;
  const struct sock *sk = ctx->skaddr;
  struct fate_key k = {};
  __u32 tid = 0;
  key_from_sock(&k, &tid, sk, FATE_KIND_RETRANSMIT, ctx->family);
  k.state = ctx->state;

  struct fate_event *e = account(&k, tid, sk);
  if (!e)
    return 0;
  TUPLE_INTO(e, ctx, 0);
  const struct sk_buff *skb = ctx->skbaddr;
  if (skb)
    e->len = BPF_CORE_READ(skb, len);
  nw_submit(&events, e);
  return 0;
}

/* A listener retransmitting its SYN-ACK: the client's ACK did not come (only traced when sent). */
SEC("tracepoint/tcp/tcp_retransmit_synack")
int fate_retransmit_synack(struct trace_event_raw_tcp_retransmit_synack *ctx)
{
  const struct sock *sk = ctx->skaddr; /* the listener: its owner is the server */
  struct fate_key k = {};
  __u32 tid = 0;
  key_from_sock(&k, &tid, sk, FATE_KIND_RETRANSMIT, ctx->family);
  k.state = NW_TCP_SYN_RECV;

  struct fate_event *e = account(&k, tid, sk);
  if (!e)
    return 0;
  TUPLE_INTO(e, ctx, 0);
  nw_submit(&events, e);
  return 0;
}
