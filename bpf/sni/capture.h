/* What the sni probe does with a parsed TCP packet to a watched port: new flows at their SYN,
 * then the first payload bytes of each flow, within a byte and segment budget, into the ring. */
#ifndef NETWATCH_SNI_CAPTURE_H
#define NETWATCH_SNI_CAPTURE_H

#include "maps.h"
#include "parse.h"

#define SNI_TC_ACT_UNSPEC (-1) /* TC_ACT_UNSPEC: let the next filter run (we only watch) */
#define SNI_TC_ACT_SHOT 2      /* TC_ACT_SHOT: drop the packet (a held SYN: the client retransmits it) */
#define SNI_RECORD_HLEN (sizeof(struct sni_record) - SNI_CHUNK_LEN) /* record bytes before payload */

/* Stream bytes (from offset 0) captured per flow; set by the agent (capture_bytes, at most SNI_MAX_CHUNKS * SNI_CHUNK_LEN). */
const volatile __u32 capture_bytes = 16384;
/* Payload segments captured per flow; set by the agent (capture_segments). */
const volatile __u32 capture_segments = 32;

static __always_inline void sni_copy_owner(struct __sk_buff *skb, struct sni_flow *f)
{
  struct bpf_sock *sk = skb->sk;
  if (!sk)
    return;
  f->cgroup_id = bpf_skb_cgroup_id(skb);
  sk = bpf_sk_fullsock(sk);
  if (!sk)
    return;
  /* The owner the conn probe captured when the socket connected (socket-local storage). */
  struct conn_sock *s = bpf_sk_storage_get(&socks, sk, 0, 0);
  if (!s || !(s->flags & CONN_FLAG_OWNER_KNOWN) || !s->owner.tgid)
    return;
  f->pid = s->owner.tgid;
  if (s->owner.cgroup_id)
    f->cgroup_id = s->owner.cgroup_id;
  f->flags |= SNI_FLAG_OWNER_KNOWN;
}

static __always_inline void sni_fill_header(struct sni_record *r, struct __sk_buff *skb, const struct sni_packet *p,
                                            const struct sni_flow *f, __u8 kind, __u64 now)
{
  r->ts_ns = now;
  r->cgroup_id = f->cgroup_id;
  r->pid = f->pid;
  r->ifindex = skb->ifindex;
  r->isn = f->isn;
  r->sport = p->sport;
  r->dport = p->dport;
  r->kind = kind;
  r->family = p->family;
  r->direction = f->direction;
  r->flags = f->flags;
  r->_pad = 0;
  __builtin_memcpy(r->saddr, p->saddr, SNI_ADDR_LEN);
  __builtin_memcpy(r->daddr, p->daddr, SNI_ADDR_LEN);
}

static __always_inline void sni_output(struct sni_record *r, __u32 len)
{
  nw_output(&events, &lost_events, r, len);
}

/* Copy up to `len` payload bytes from stream offset `at` on, in records of at most SNI_CHUNK_LEN. */
static __always_inline void sni_emit_payload(struct __sk_buff *skb, const struct sni_packet *p, const struct sni_flow *f,
                                             __u32 len, __u64 now)
{
  __u32 zero = 0;
  struct sni_record *r = bpf_map_lookup_elem(&scratch, &zero);
  if (!r)
    return;
  sni_fill_header(r, skb, p, f, SNI_KIND_SEGMENT, now);
  for (__u32 i = 0; i < SNI_MAX_CHUNKS; i++) {
    __u32 done = i * SNI_CHUNK_LEN;
    if (done >= len)
      break;
    /* 64-bit, so the bounds the verifier learns are on the register the helper gets */
    __u64 n = (__u64)(len - done);
    if (n > SNI_CHUNK_LEN)
      n = SNI_CHUNK_LEN;
    if (n == 0)
      break;
    if (bpf_skb_load_bytes(skb, p->payload_off + done, r->payload, n))
      break;
    r->seq = p->seq + done;
    r->cap_len = n;
    r->wire_len = p->payload_len - done;
    sni_output(r, SNI_RECORD_HLEN + n);
  }
}

static __always_inline void sni_emit_syn(struct __sk_buff *skb, const struct sni_packet *p, const struct sni_flow *f, __u64 now)
{
  __u32 zero = 0;
  struct sni_record *r = bpf_map_lookup_elem(&scratch, &zero);
  if (!r)
    return;
  sni_fill_header(r, skb, p, f, SNI_KIND_SYN, now);
  r->seq = p->seq;
  r->cap_len = 0;
  r->wire_len = 0;
  sni_output(r, SNI_RECORD_HLEN);
}

/* Whether a socket on this host would take the SYN: what the kernel finds for its 4-tuple in the
 * namespace of the device (an established or request socket, else a listener), other than TIME_WAIT. */
static __always_inline int sni_listening(struct __sk_buff *skb, const struct sni_packet *p)
{
  struct bpf_sock_tuple t = {};
  struct bpf_sock *sk;
  if (p->family == NW_AF_INET) {
    __builtin_memcpy(&t.ipv4.saddr, p->saddr, 4);
    __builtin_memcpy(&t.ipv4.daddr, p->daddr, 4);
    t.ipv4.sport = bpf_htons(p->sport);
    t.ipv4.dport = bpf_htons(p->dport);
    sk = bpf_skc_lookup_tcp(skb, &t, sizeof(t.ipv4), BPF_F_CURRENT_NETNS, 0);
  } else {
    __builtin_memcpy(t.ipv6.saddr, p->saddr, SNI_ADDR_LEN);
    __builtin_memcpy(t.ipv6.daddr, p->daddr, SNI_ADDR_LEN);
    t.ipv6.sport = bpf_htons(p->sport);
    t.ipv6.dport = bpf_htons(p->dport);
    sk = bpf_skc_lookup_tcp(skb, &t, sizeof(t.ipv6), BPF_F_CURRENT_NETNS, 0);
  }
  if (!sk)
    return 0;
  int found = sk->state != BPF_TCP_TIME_WAIT;
  bpf_sk_release(sk);
  return found;
}

/* An arriving SYN to a held port: dropped and counted while nothing listens; the first one that
 * finds a listener releases the hold (every later SYN passes at the cost of one lookup). */
static __always_inline int sni_hold_verdict(struct __sk_buff *skb, const struct sni_packet *p, __u64 now)
{
  struct sni_hold *h = bpf_map_lookup_elem(&syn_holds, &p->dport);
  if (!h || h->released_ns)
    return SNI_TC_ACT_UNSPEC;
  if (sni_listening(skb, p)) {
    h->released_ns = now;
    return SNI_TC_ACT_UNSPEC;
  }
  if (!h->held_since_ns)
    h->held_since_ns = now;
  __u64 *n = bpf_map_lookup_elem(&held_syns, &p->dport);
  if (n) {
    *n += 1; /* per CPU: no atomics needed */
  } else {
    __u64 one = 1;
    bpf_map_update_elem(&held_syns, &p->dport, &one, BPF_NOEXIST);
  }
  return SNI_TC_ACT_SHOT;
}

static __always_inline int sni_handle(struct __sk_buff *skb, __u8 direction)
{
  struct sni_packet p;
  if (sni_parse(skb, &p) < 0)
    return SNI_TC_ACT_UNSPEC;
  if (!bpf_map_lookup_elem(&watched_ports, &p.dport))
    return SNI_TC_ACT_UNSPEC;

  struct sni_flow_key k = {};
  __builtin_memcpy(k.saddr, p.saddr, SNI_ADDR_LEN);
  __builtin_memcpy(k.daddr, p.daddr, SNI_ADDR_LEN);
  k.sport = p.sport;
  k.dport = p.dport;
  k.family = p.family;
  __u64 now = bpf_ktime_get_boot_ns();
  struct sni_flow *f = bpf_map_lookup_elem(&flows, &k);
  __u32 data_seq = p.seq;

  if ((p.tcp_flags & (SNI_TCP_SYN | SNI_TCP_ACK)) == SNI_TCP_SYN) {
    /* Held or not, every SYN that arrives (retransmissions too): the hold decides the packet's fate. */
    int verdict = direction == SNI_DIR_INGRESS ? sni_hold_verdict(skb, &p, now) : SNI_TC_ACT_UNSPEC;
    /* A retransmitted SYN, or the same SYN seen again (lo: egress then ingress): not a new attempt. */
    if (f && f->isn == p.seq)
      return verdict;
    struct sni_flow nf = {};
    nf.isn = p.seq;
    nf.ifindex = skb->ifindex;
    nf.direction = direction;
    if (direction == SNI_DIR_EGRESS)
      sni_copy_owner(skb, &nf);
    bpf_map_update_elem(&flows, &k, &nf, BPF_ANY);
    sni_emit_syn(skb, &p, &nf, now);
    /* A dropped SYN's Fast Open bytes are not captured: its retransmission is the same attempt. */
    if (p.payload_len == 0 || verdict == SNI_TC_ACT_SHOT)
      return verdict;
    f = bpf_map_lookup_elem(&flows, &k); /* TCP Fast Open: the SYN carries the first bytes */
    data_seq = p.seq + 1;
    p.seq = data_seq;
  }
  /* Only the interface and direction that saw the SYN capture: a packet crossing two watched hooks counts once. */
  if (!f || f->ifindex != skb->ifindex || f->direction != direction || p.payload_len == 0)
    return SNI_TC_ACT_UNSPEC;
  if (p.tcp_flags & SNI_TCP_RST) {
    bpf_map_delete_elem(&flows, &k);
    return SNI_TC_ACT_UNSPEC;
  }

  __u32 offset = data_seq - (f->isn + 1); /* stream offset, modulo 2^32 like the sequence numbers */
  if (offset >= capture_bytes) {
    bpf_map_delete_elem(&flows, &k); /* the hello would need more than the budget */
    return SNI_TC_ACT_UNSPEC;
  }
  __u32 len = p.payload_len;
  if (len > capture_bytes - offset)
    len = capture_bytes - offset;
  f->segments++;
  __u16 segments = f->segments;
  sni_emit_payload(skb, &p, f, len, now);
  if (segments >= capture_segments)
    bpf_map_delete_elem(&flows, &k);
  return SNI_TC_ACT_UNSPEC;
}

#endif
