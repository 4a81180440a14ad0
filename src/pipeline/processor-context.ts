// What a processor is built with besides its configuration.
import type { ProcessorTelemetry } from './processor-telemetry';
import type { Processor } from './event';

/** Read of one held port (times are CLOCK_BOOTTIME ns, as the kernel stamps them; 0 = not yet). */
export interface SynHoldState {
  /** The first SYN held since the port was armed. */
  heldSinceNs: number;
  /** The first SYN that found something listening: the hold is over and SYNs pass. */
  releasedNs: number;
}

/**
 * SYNs held in the kernel (nomad_autostart `hold_syn`): an sni receiver's TC ingress program drops
 * SYNs to an armed port while nothing listens on it, so clients retransmit instead of being refused.
 */
export interface SynHolds {
  arm(port: number): void;
  disarm(port: number): void;
  /** undefined when the port is not armed. */
  read(port: number): SynHoldState | undefined;
  /** SYNs to `port` dropped so far by this receiver (cumulative). */
  held(port: number): number;
}

export interface ProcessorContext {
  /** Its own metrics and log records, exported by the pipelines that list it. */
  readonly telemetry: ProcessorTelemetry;
  /** The instance with the same id before a reload: state worth keeping (counters, open connections, woken groups) may be adopted from it. */
  readonly previous?: Processor;
  /** The SYN holds of the running sni receivers (looked up at each use: receivers restart on reloads). */
  readonly synHolds?: () => readonly SynHolds[];
}
