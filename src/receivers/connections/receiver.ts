// The `connections` receiver: the conn probe, enriched, feeding the pipelines that name it. Its
// records (opens, closes) go through as they come; its kernel counters once per interval, as
// `count` events that carry what the kernel counted for one set of attributes.
import { type ConnectionsReceiverConfig, rttBucketsSeconds } from './config';
import { nowBootNs } from '../../enrich/clock';
import type { Receiver, ReceiverContext, SharedMaps } from '../receiver';
import { ConnProbe, type ProbeStats } from './probe';
import { enrichConnEvent } from './pipeline-event';
import { emptyEnrichment } from '../../enrich/types';
import type { CountRow, TransitionRow } from './tables';
import { dispatchCollection } from './count-events';
import { EVENT, METRIC, METRICS } from '../../catalogue/generated';
import { eventEnabled, CONN_EVENTS } from './logs';

export class ConnectionsReceiver implements Receiver {
  private readonly probe: ConnProbe;
  private timer: NodeJS.Timeout | null = null;
  private removeCgroupSource: (() => void) | null = null;

  constructor(
    readonly id: string,
    private readonly cfg: ConnectionsReceiverConfig,
    private readonly ctx: ReceiverContext,
  ) {
    const { enricher, dispatch } = ctx;
    const scratch = emptyEnrichment(); // refilled per event: one allocation per event, the event itself
    const stateChanges = CONN_EVENTS.find((e) => e.name === EVENT.CONNECTION_STATE_CHANGE);
    this.probe = new ConnProbe(
      {
        ringBytes: cfg.ring_buffer_size,
        pollIntervalMs: cfg.poll_interval_ms,
        wakeupBytes: cfg.wakeup_bytes,
        seedExisting: cfg.seed_existing,
        tableSize: cfg.table_size,
        excludePid: cfg.include_self ? 0 : process.pid,
        keys: { pid: cfg.include.process_pid, peerAddress: cfg.include.peer_address, clientPort: cfg.include.client_port },
        durationBounds: METRICS[METRIC.CONNECTION_DURATION].buckets ?? [],
        rttBounds: rttBucketsSeconds(cfg),
        emitStates: stateChanges !== undefined && eventEnabled(cfg, stateChanges),
        fillOwners: ctx.ownersWanted === true,
        nowBootNs,
      },
      (ev) => dispatch(enrichConnEvent(enricher, ev, id, scratch)),
      { onCounts: (rows, transitions) => this.dispatchCounts(rows, transitions) },
    );
  }

  /** One collection's counter rows, after the marker that starts it. */
  private dispatchCounts(rows: readonly CountRow[], transitions: readonly TransitionRow[]): void {
    const names = this.probe.kernelNames();
    const exeName = (ino: number, dev: number): string => names?.exe(ino, dev) ?? '';
    dispatchCollection({ rows, transitions, exeName }, this.ctx.enricher, this.id, nowBootNs(), this.ctx.dispatch);
  }

  start(): void {
    this.probe.start();
    const names = this.probe.kernelNames();
    if (names) this.removeCgroupSource = this.ctx.enricher.addCgroupSource((id) => names.cgroupPath(id));
    this.timer = setInterval(() => void this.probe.rotate(), this.cfg.interval_ms);
    this.timer.unref();
  }

  stats(): ProbeStats {
    return this.probe.stats();
  }

  /** What waits in the ring and in the kernel's counters now goes through the pipelines. */
  flush(): void {
    this.probe.drain();
    this.probe.rotateSync();
  }

  sharedMaps(): SharedMaps {
    return { socketOwners: this.probe.ownersFd(), socketStorage: this.probe.socketStorageFd() };
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.probe.stop(); // hands over what the ring and the counters still hold
    this.removeCgroupSource?.();
    this.removeCgroupSource = null;
  }
}
