// What the agent asks of every receiver, and what it hands each one: the enricher, where to send
// events, and the kernel maps other probes share (the conn probe's socket-owner map).
import type { ReceiverConfig } from '../config/types';
import type { Enricher } from '../enrich/enricher';
import type { ProbeStats } from '../kernel/probe-stats';
import type { PipelineEvent } from '../pipeline/event';
import type { SynHolds } from '../pipeline/processor-context';

export type { ProbeStats, ReceiverConfig };

/** Kernel maps one probe lets others reuse (bpf_map__reuse_fd), by what they hold. */
export interface SharedMaps {
  /** The conn probe's `owners` map: struct sock * → struct sock_owner (bpf/conn/conn.h); filled only when `ownersWanted`. */
  socketOwners?: number;
  /** The conn probe's socket-local storage `socks`: struct sock → struct conn_sock (bpf/conn/socks.h). */
  socketStorage?: number;
}

export interface ReceiverContext {
  readonly enricher: Enricher;
  readonly dispatch: (ev: PipelineEvent) => void;
  /** Maps offered by the receivers started before this one (connections receivers start first). */
  readonly shared: () => SharedMaps;
  /** Whether a receiver of this configuration reads the `owners` map (packet_fate): the conn probe fills it only then. */
  readonly ownersWanted?: boolean;
}

export interface Receiver {
  readonly id: string;
  start(): void;
  stats(): ProbeStats;
  stop(): void;
  /**
   * Apply changed settings in place (e.g. watched ports are a map the kernel reads): true when it
   * did, false when the receiver must be re-created (re-attached) to apply them.
   */
  update?(next: ReceiverConfig): boolean;
  /** Hand over what it has collected now, without waiting for its own interval (flushes, tests). */
  flush?(): void;
  /** Maps this receiver offers to probes started after it (valid while it runs). */
  sharedMaps?(): SharedMaps;
  /** Where processors hold SYNs (the sni receiver's kernel map; valid while it runs). */
  synHolds?(): SynHolds | undefined;
  /** True when it reuses another receiver's maps: restarted whenever the provider is. */
  readonly usesSharedMaps?: boolean;
}
