// The `connections` receiver: the conn probe, enriched, feeding the pipelines that name it.
import type { ConnectionsReceiverConfig } from './config';
import { nowBootNs } from '../../enrich/clock';
import type { Receiver, ReceiverContext, SharedMaps } from '../receiver';
import { ConnProbe, type ProbeStats } from './probe';
import { enrichConnEvent } from './pipeline-event';
import { emptyEnrichment } from '../../enrich/types';

export class ConnectionsReceiver implements Receiver {
  private readonly probe: ConnProbe;

  constructor(
    readonly id: string,
    cfg: ConnectionsReceiverConfig,
    { enricher, dispatch }: ReceiverContext,
  ) {
    const scratch = emptyEnrichment(); // refilled per event: one allocation per event, the event itself
    this.probe = new ConnProbe(
      {
        ringBytes: cfg.ring_buffer_size,
        pollIntervalMs: cfg.poll_interval_ms,
        wakeupBytes: cfg.wakeup_bytes,
        seedExisting: cfg.seed_existing,
        nowBootNs,
      },
      (ev) => dispatch(enrichConnEvent(enricher, ev, id, scratch)),
    );
  }

  start(): void {
    this.probe.start();
  }

  stats(): ProbeStats {
    return this.probe.stats();
  }

  /** What waits in the ring now goes through the pipelines (the reader may be waiting for its timer). */
  flush(): void {
    this.probe.drain();
  }

  sharedMaps(): SharedMaps {
    return { socketOwners: this.probe.ownersFd() };
  }

  stop(): void {
    this.probe.stop();
  }
}
