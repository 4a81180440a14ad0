// What the sni receiver hands the pipelines: one enriched event per ClientHello or SYN.
import type { Enrichment } from '../../enrich/types';

/**
 * From the `sni` receiver (TC on chosen interfaces): `client_hello` when a TLS ClientHello to a
 * watched port was reassembled and parsed; `syn` when a TCP SYN (a connection attempt, answered
 * or not) to a watched port was seen. Client and server are the TCP roles, whatever the direction.
 */
export interface SniPipelineEvent extends Enrichment {
  readonly source: 'sni';
  readonly receiver: string;
  readonly kind: 'client_hello' | 'syn';
  /** CLOCK_BOOTTIME ns of the packet that completed the event. */
  readonly bootNs: number;
  /** process.hrtime.bigint() when its ring record was read (latency measurements). */
  readonly readAtNs: bigint;
  readonly networkType: 'ipv4' | 'ipv6';
  /** egress: leaving a local interface (a local client); ingress: arriving (a client elsewhere). */
  readonly direction: 'ingress' | 'egress';
  readonly interfaceName: string;
  readonly ifindex: number;
  /** Network namespace inode of the interface the packet was seen on. */
  readonly netns: number;
  readonly clientAddress: string;
  readonly clientPort: number;
  readonly serverAddress: string;
  readonly serverPort: number;
  /** Owner (tgid) of the local socket of this flow when the conn probe captured it (0 otherwise). */
  readonly pid: number;
  readonly cgroupId: number;
  /** client_hello only: the host_name, lower-cased; undefined when the hello named none. */
  readonly serverName?: string;
  /** client_hello only: encrypted_client_hello present — serverName is then the outer (public) name. */
  readonly ech: boolean;
  /** client_hello only: ALPN protocols offered (GREASE removed). */
  readonly alpn: readonly string[];
  /** client_hello only: TLS versions offered (e.g. 0x0304), GREASE removed. */
  readonly versions: readonly number[];
  /** client_hello only: an SSLv2-compatible hello (never has a name). */
  readonly sslv2: boolean;
}
