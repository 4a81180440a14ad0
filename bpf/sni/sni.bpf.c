/* TLS ClientHello capture on chosen interfaces: TC (sched_cls) programs on ingress and egress.
 * Entry points only; see capture.h (what is captured), parse.h (headers), maps.h, sni.h (wire). */
#include "capture.h"

SEC("tc")
int sni_ingress(struct __sk_buff *skb)
{
  return sni_handle(skb, SNI_DIR_INGRESS);
}

SEC("tc")
int sni_egress(struct __sk_buff *skb)
{
  return sni_handle(skb, SNI_DIR_EGRESS);
}

char LICENSE[] SEC("license") = "GPL";
