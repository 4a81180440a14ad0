/* What a packet and a socket tell about themselves, read with CO-RE: namespace, interface, the IP
 * header's protocol and tuple, and the socket's owner. */
#ifndef NETWATCH_PACKET_FATE_PACKET_H
#define NETWATCH_PACKET_FATE_PACKET_H

#include "maps.h"

/* Ethertypes of skb->protocol (include/uapi/linux/if_ether.h), as the tracepoint reports them (host order). */
#define NW_ETH_P_IP 0x0800
#define NW_ETH_P_IPV6 0x86DD
#define NW_IPPROTO_ICMP 1
#define NW_IPPROTO_ICMPV6 58
/* skb->network_header / transport_header value meaning "not set" ((typeof(header))~0U). */
#define NW_SKB_HEADER_UNSET 0xffff
/* IPv4 header (RFC 791): version/IHL byte, protocol and the two addresses. */
#define NW_IP4_OFF_PROTOCOL 9
#define NW_IP4_OFF_SADDR 12
#define NW_IP4_OFF_DADDR 16
#define NW_IP4_IHL_MASK 0x0f  /* header length in 32-bit words, low nibble of byte 0 */
#define NW_IP4_MIN_HDR 20
/* IPv6 header (RFC 8200): next header and the two addresses; fixed 40 bytes. */
#define NW_IP6_OFF_NEXTHDR 6
#define NW_IP6_OFF_SADDR 8
#define NW_IP6_OFF_DADDR 24
#define NW_IP6_HDR 40
/* The version is the high nibble of the first byte of both headers. */
#define NW_IP_VERSION_SHIFT 4
/* TCP and UDP headers start with the two ports; the TCP flags byte is at offset 13. */
#define NW_TCP_OFF_FLAGS 13
/* sockaddr_in / sockaddr_in6 in tcp_send_reset's saddr/daddr: family, port (network order), address. */
#define NW_SA_OFF_PORT 2
#define NW_SA4_OFF_ADDR 4
#define NW_SA6_OFF_ADDR 8
/* Socket states that are not full sockets (request and timewait minisocks, include/net/tcp_states.h). */
#define NW_TCP_TIME_WAIT 6
#define NW_TCP_NEW_SYN_RECV 12

static __always_inline __u32 net_inum(const struct net *net)
{
  return BPF_CORE_READ(net, ns.inum);
}

static __always_inline __u32 sock_netns(const struct sock *sk)
{
  return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

/* The interface a packet is on, with its name and namespace (ifindex 0 when it has none). */
static __always_inline void key_from_dev(struct fate_key *k, const struct net_device *dev)
{
  if (!dev)
    return;
  k->ifindex = BPF_CORE_READ(dev, ifindex);
  bpf_probe_read_kernel(k->ifname, sizeof(k->ifname), &dev->name);
  k->netns = BPF_CORE_READ(dev, nd_net.net, ns.inum);
}

/* Where the IP header of an skb starts, or NULL when the skb has none the probe can trust. */
static __always_inline const unsigned char *ip_header(const struct sk_buff *skb, __u16 ethertype, __u8 *version)
{
  __u16 nh = BPF_CORE_READ(skb, network_header);
  if (nh == NW_SKB_HEADER_UNSET || (ethertype != NW_ETH_P_IP && ethertype != NW_ETH_P_IPV6))
    return NULL;
  const unsigned char *ip = BPF_CORE_READ(skb, head) + nh;
  __u8 first = 0;
  if (bpf_probe_read_kernel(&first, 1, ip) != 0)
    return NULL;
  *version = first >> NW_IP_VERSION_SHIFT;
  if ((*version == 4 && ethertype != NW_ETH_P_IP) || (*version == 6 && ethertype != NW_ETH_P_IPV6) || (*version != 4 && *version != 6))
    return NULL;
  return ip;
}

/* Family and protocol of the packet (the aggregation key needs only these). */
static __always_inline const unsigned char *key_from_ip(struct fate_key *k, const struct sk_buff *skb, __u16 ethertype)
{
  __u8 version = 0;
  const unsigned char *ip = ip_header(skb, ethertype, &version);
  if (!ip)
    return NULL;
  k->family = version == 4 ? NW_AF_INET : NW_AF_INET6;
  bpf_probe_read_kernel(&k->protocol, 1, ip + (version == 4 ? NW_IP4_OFF_PROTOCOL : NW_IP6_OFF_NEXTHDR));
  return ip;
}

/* The tuple of the packet for a sampled record: addresses, and ports/flags of TCP and UDP. */
static __always_inline void event_tuple_from_ip(struct fate_event *e, const struct sk_buff *skb, const unsigned char *ip)
{
  __u32 l4off;
  if (e->family == NW_AF_INET) {
    __u8 first = 0;
    bpf_probe_read_kernel(&first, 1, ip);
    __u32 ihl = (first & NW_IP4_IHL_MASK) * 4;
    if (ihl < NW_IP4_MIN_HDR)
      return;
    bpf_probe_read_kernel(e->saddr, 4, ip + NW_IP4_OFF_SADDR);
    bpf_probe_read_kernel(e->daddr, 4, ip + NW_IP4_OFF_DADDR);
    l4off = ihl;
  } else {
    bpf_probe_read_kernel(e->saddr, 16, ip + NW_IP6_OFF_SADDR);
    bpf_probe_read_kernel(e->daddr, 16, ip + NW_IP6_OFF_DADDR);
    l4off = NW_IP6_HDR; /* extension headers are not walked: their ports stay 0 */
  }
  if (e->protocol != NW_IPPROTO_TCP && e->protocol != NW_IPPROTO_UDP)
    return;
  const unsigned char *l4 = ip + l4off;
  __be16 ports[2] = {};
  if (bpf_probe_read_kernel(ports, sizeof(ports), l4) != 0)
    return;
  e->sport = bpf_ntohs(ports[0]);
  e->dport = bpf_ntohs(ports[1]);
  if (e->protocol == NW_IPPROTO_TCP)
    bpf_probe_read_kernel(&e->tcp_flags, 1, l4 + NW_TCP_OFF_FLAGS);
}

/* A struct sockaddr_in/_in6 from tcp_send_reset: address and port into the record. */
static __always_inline void sockaddr_into(const __u8 *sa, __u16 family, __u8 *addr, __u16 *port)
{
  __be16 p = 0;
  bpf_probe_read_kernel(&p, sizeof(p), sa + NW_SA_OFF_PORT);
  *port = bpf_ntohs(p);
  if (family == NW_AF_INET)
    bpf_probe_read_kernel(addr, 4, sa + NW_SA4_OFF_ADDR);
  else
    bpf_probe_read_kernel(addr, 16, sa + NW_SA6_OFF_ADDR);
}

/*
 * The owner of a socket: from the conn probe's owner map (pid, comm, cgroup) when it knows the
 * socket; otherwise, for a full socket, the cgroup the socket was created in (sk_cgrp_data), which
 * names the container even where the pid is unknown (the conn probe forgets a socket at CLOSE,
 * and active resets are sent just after it).
 */
static __always_inline void key_owner(struct fate_key *k, __u32 *tid, const struct sock *sk)
{
  if (!sk)
    return;
  __u64 addr = (__u64)sk;
  struct sock_owner *o = bpf_map_lookup_elem(&owners, &addr);
  if (o && o->pid) {
    k->pid = o->pid;
    k->cgroup_id = o->cgroup_id;
    *tid = o->tid;
    __builtin_memcpy(k->comm, o->comm, sizeof(k->comm));
    k->flags |= FATE_FLAG_OWNER_KNOWN;
    return;
  }
  __u8 state = BPF_CORE_READ(sk, __sk_common.skc_state);
  if (state == NW_TCP_TIME_WAIT || state == NW_TCP_NEW_SYN_RECV)
    return; /* a minisock: no sk_cgrp_data */
  if (!bpf_core_field_exists(sk->sk_cgrp_data))
    return;
  struct cgroup *cg = BPF_CORE_READ(sk, sk_cgrp_data.cgroup);
  if (!cg)
    return;
  k->cgroup_id = BPF_CORE_READ(cg, kn, id);
  if (k->cgroup_id)
    k->flags |= FATE_FLAG_CGROUP_OF_SOCKET;
}

#endif
