/* Packet parsing for the sni probe: Ethernet (+ up to two VLAN tags), IPv4 or IPv6 (+ extension
 * headers), TCP. Every read goes through bpf_skb_load_bytes, so headers and payload may sit in the
 * non-linear part of the skb (GSO/GRO super-packets on veth and lo). */
#ifndef NETWATCH_SNI_PARSE_H
#define NETWATCH_SNI_PARSE_H

#include "../include/netwatch.h"

#define SNI_ETH_HLEN 14          /* destination, source, EtherType */
#define SNI_ETH_PROTO_OFF 12     /* offset of the EtherType in the Ethernet header */
#define SNI_VLAN_HLEN 4          /* 802.1Q tag: TCI + inner EtherType */
#define SNI_MAX_VLAN_TAGS 2      /* 802.1ad QinQ: an outer and an inner tag */
#define SNI_ETH_P_IP 0x0800
#define SNI_ETH_P_IPV6 0x86DD
#define SNI_ETH_P_8021Q 0x8100
#define SNI_ETH_P_8021AD 0x88A8
#define SNI_IP_MF 0x2000         /* IPv4 more-fragments flag */
#define SNI_IP_OFFSET 0x1FFF     /* IPv4 fragment offset mask */
#define SNI_IPV6_HLEN 40         /* fixed IPv6 header */
#define SNI_MAX_EXT_HDRS 8       /* IPv6 extension headers walked before giving up */
#define SNI_NEXTHDR_HOP 0        /* hop-by-hop options */
#define SNI_NEXTHDR_ROUTING 43
#define SNI_NEXTHDR_FRAGMENT 44
#define SNI_NEXTHDR_AUTH 51      /* AH: length in 4-octet units minus 2 */
#define SNI_NEXTHDR_DEST 60      /* destination options */
#define SNI_EXT_UNIT 8           /* hop-by-hop/routing/destination lengths are in 8-octet units, minus 1 */
#define SNI_AH_UNIT 4
#define SNI_TCP_MIN_HLEN 20
#define SNI_TCP_FLAGS_OFF 13     /* the flags byte of the TCP header: CWR ECE URG ACK PSH RST SYN FIN */
#define SNI_TCP_FIN 0x01
#define SNI_TCP_SYN 0x02
#define SNI_TCP_RST 0x04
#define SNI_TCP_ACK 0x10

struct sni_packet {
  __u8 saddr[16];
  __u8 daddr[16];
  __u32 seq;
  __u32 payload_off; /* offset of the TCP payload from the start of the frame */
  __u32 payload_len;
  __u16 sport;       /* host byte order */
  __u16 dport;
  __u8 family;
  __u8 tcp_flags;
};

/* IPv6 extension headers up to TCP. Returns the TCP header offset, or -1 (fragment, ESP, unknown, too many). */
static __always_inline int sni_skip_ipv6_ext(struct __sk_buff *skb, __u32 off, __u8 nexthdr)
{
  for (int i = 0; i < SNI_MAX_EXT_HDRS; i++) {
    __u8 ext[2]; /* next header, header length */
    switch (nexthdr) {
    case NW_IPPROTO_TCP:
      return off;
    case SNI_NEXTHDR_HOP:
    case SNI_NEXTHDR_ROUTING:
    case SNI_NEXTHDR_DEST:
      if (bpf_skb_load_bytes(skb, off, ext, sizeof(ext)))
        return -1;
      nexthdr = ext[0];
      off += ((__u32)ext[1] + 1) * SNI_EXT_UNIT;
      break;
    case SNI_NEXTHDR_AUTH:
      if (bpf_skb_load_bytes(skb, off, ext, sizeof(ext)))
        return -1;
      nexthdr = ext[0];
      off += ((__u32)ext[1] + 2) * SNI_AH_UNIT;
      break;
    default: /* fragments are not reassembled here; ESP hides TCP; anything else is not TCP */
      return -1;
    }
  }
  return nexthdr == NW_IPPROTO_TCP ? (int)off : -1;
}

/* Fills p for a TCP packet; returns 0, or -1 for anything else or anything malformed. */
static __always_inline int sni_parse(struct __sk_buff *skb, struct sni_packet *p)
{
  __u16 proto;
  __u32 off = SNI_ETH_HLEN;
  if (bpf_skb_load_bytes(skb, SNI_ETH_PROTO_OFF, &proto, sizeof(proto)))
    return -1;
  for (int i = 0; i < SNI_MAX_VLAN_TAGS; i++) {
    if (proto != bpf_htons(SNI_ETH_P_8021Q) && proto != bpf_htons(SNI_ETH_P_8021AD))
      break;
    if (bpf_skb_load_bytes(skb, off + 2, &proto, sizeof(proto)))
      return -1;
    off += SNI_VLAN_HLEN;
  }

  __u32 l4, end;
  if (proto == bpf_htons(SNI_ETH_P_IP)) {
    struct iphdr ip;
    if (bpf_skb_load_bytes(skb, off, &ip, sizeof(ip)))
      return -1;
    if (ip.version != 4 || ip.ihl < 5 || ip.protocol != NW_IPPROTO_TCP)
      return -1;
    if (ip.frag_off & bpf_htons(SNI_IP_MF | SNI_IP_OFFSET))
      return -1;
    __u32 tot = bpf_ntohs(ip.tot_len);
    /* BIG TCP (and some GSO paths) leave tot_len 0: the packet is what the skb holds. */
    end = tot ? off + tot : skb->len;
    l4 = off + ip.ihl * 4;
    __builtin_memset(p->saddr, 0, sizeof(p->saddr));
    __builtin_memset(p->daddr, 0, sizeof(p->daddr));
    __builtin_memcpy(p->saddr, &ip.saddr, 4);
    __builtin_memcpy(p->daddr, &ip.daddr, 4);
    p->family = NW_AF_INET;
  } else if (proto == bpf_htons(SNI_ETH_P_IPV6)) {
    struct ipv6hdr ip6;
    if (bpf_skb_load_bytes(skb, off, &ip6, sizeof(ip6)))
      return -1;
    if (ip6.version != 6)
      return -1;
    __u32 plen = bpf_ntohs(ip6.payload_len);
    /* A jumbogram or a BIG TCP super-packet has payload_len 0. */
    end = plen ? off + SNI_IPV6_HLEN + plen : skb->len;
    int t = sni_skip_ipv6_ext(skb, off + SNI_IPV6_HLEN, ip6.nexthdr);
    if (t < 0)
      return -1;
    l4 = t;
    __builtin_memcpy(p->saddr, &ip6.saddr, 16);
    __builtin_memcpy(p->daddr, &ip6.daddr, 16);
    p->family = NW_AF_INET6;
  } else {
    return -1;
  }

  struct tcphdr tcp;
  if (bpf_skb_load_bytes(skb, l4, &tcp, sizeof(tcp)))
    return -1;
  __u32 thl = tcp.doff * 4;
  if (thl < SNI_TCP_MIN_HLEN)
    return -1;
  if (end > skb->len)
    end = skb->len; /* a length field larger than the packet: trust what is there */
  __u32 poff = l4 + thl;
  if (poff > end)
    return -1;
  p->payload_off = poff;
  p->payload_len = end - poff;
  p->seq = bpf_ntohl(tcp.seq);
  p->sport = bpf_ntohs(tcp.source);
  p->dport = bpf_ntohs(tcp.dest);
  p->tcp_flags = ((__u8 *)&tcp)[SNI_TCP_FLAGS_OFF];
  return 0;
}

#endif
