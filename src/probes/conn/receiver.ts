// The `connections` receiver: the conn probe, enriched, feeding the pipelines that name it.
import type { ConnectionsReceiverConfig } from '../../config/types';
import type { Enricher } from '../../enrich/enricher';
import { nowBootNs } from '../../enrich/clock';
import type { PipelineEvent } from '../../pipeline/event';
import { ConnProbe, type ProbeStats } from './probe';

export class ConnectionsReceiver {
  private readonly probe: ConnProbe;

  constructor(readonly id: string, cfg: ConnectionsReceiverConfig, enricher: Enricher, dispatch: (ev: PipelineEvent) => void) {
    this.probe = new ConnProbe(
      {
        ringBytes: cfg.ring_buffer_size,
        pollIntervalMs: cfg.poll_interval_ms,
        seedExisting: cfg.seed_existing,
        nowBootNs,
      },
      (ev) => dispatch(enricher.enrich(ev, id)),
    );
  }

  start(): void {
    this.probe.start();
  }

  stats(): ProbeStats {
    return this.probe.stats();
  }

  stop(): void {
    this.probe.stop();
  }
}
