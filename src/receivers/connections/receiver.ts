// The `connections` receiver: the conn probe, enriched, feeding the pipelines that name it. Its
// records (opens, closes) go through as they come; its kernel counters once per interval, as
// `count` events that carry what the kernel counted for one set of attributes.
import { type ConnectionsReceiverConfig, rttBucketsSeconds } from './config';
import { nowBootNs } from '../../enrich/clock';
import type { Receiver, ReceiverContext, SharedMaps } from '../receiver';
import { ConnProbe, type ProbeStats } from './probe';
import { connPipelineEvent, enrichConnEvent } from './pipeline-event';
import { emptyEnrichment } from '../../enrich/types';
import type { ConnCounts, ConnEvent, KernelHistogram } from './event';
import type { CountRow, TransitionRow } from './tables';
import { EVENT, METRIC, METRICS } from '../../catalogue/generated';
import { eventEnabled, CONN_EVENTS } from './logs';

const NS_PER_S = 1e9;
const US_PER_S = 1e6;

const NO_COUNTS: Omit<ConnCounts, 'row'> = {
  opened: 0,
  failed: 0,
  active: 0,
  transitions: 0,
  bytesSent: 0,
  bytesReceived: 0,
  retransmits: 0,
  duration: undefined,
  rtt: undefined,
};

/** A counter row as a connection event: the ports where the attribute extractors look for them. */
function rowEvent(r: CountRow, exe: string, bootNs: number): ConnEvent {
  const inbound = r.direction === 'inbound' || (r.direction === 'unknown' && r.serverPort !== 0);
  const histogram = (buckets: number[], count: number, sum: number): KernelHistogram | undefined => (count > 0 ? { buckets, count, sum } : undefined);
  return {
    kind: 'count',
    bootNs,
    sock: 0n,
    pid: r.tgid,
    tid: 0,
    exe,
    cgroupId: r.cgroupId,
    netns: 0,
    transport: r.transport,
    networkType: r.networkType,
    direction: r.direction,
    localAddress: '',
    localPort: inbound ? r.serverPort : r.clientPort,
    remoteAddress: r.peer,
    remotePort: inbound ? (r.direction === 'unknown' ? 0 : r.clientPort) : r.serverPort,
    oldState: 'unknown',
    newState: r.state,
    bytesSent: 0,
    bytesReceived: 0,
    srttUs: 0,
    retransmits: 0,
    durationNs: 0,
    error: r.error,
    counts: {
      row: r.kind,
      opened: r.opened,
      failed: r.failed,
      active: r.active,
      transitions: 0,
      bytesSent: r.bytesSent,
      bytesReceived: r.bytesReceived,
      retransmits: r.retransmits,
      duration: histogram(r.durationBuckets, r.durationCount, r.durationSumNs / NS_PER_S),
      rtt: histogram(r.rttBuckets, r.rttCount, r.rttSumUs / US_PER_S),
    },
  };
}

function markerEvent(row: 'begin', bootNs: number): ConnEvent {
  return { ...transitionEvent({ direction: 'unknown', oldState: 'unknown', newState: 'unknown', count: 0 }, bootNs), counts: { row, ...NO_COUNTS } };
}

function transitionEvent(t: TransitionRow, bootNs: number): ConnEvent {
  return {
    kind: 'count',
    bootNs,
    sock: 0n,
    pid: 0,
    tid: 0,
    exe: '',
    cgroupId: 0,
    netns: 0,
    transport: 'tcp',
    networkType: 'ipv4',
    direction: t.direction,
    localAddress: '',
    localPort: 0,
    remoteAddress: '',
    remotePort: 0,
    oldState: t.oldState,
    newState: t.newState,
    bytesSent: 0,
    bytesReceived: 0,
    srttUs: 0,
    retransmits: 0,
    durationNs: 0,
    error: 0,
    counts: { row: 'transitions', ...NO_COUNTS, transitions: t.count },
  };
}

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
        nowBootNs,
      },
      (ev) => dispatch(enrichConnEvent(enricher, ev, id, scratch)),
      { onCounts: (rows, transitions) => this.dispatchCounts(rows, transitions) },
    );
  }

  /** One collection's counter rows, after the marker that starts it. */
  private dispatchCounts(rows: readonly CountRow[], transitions: readonly TransitionRow[]): void {
    const { enricher, dispatch } = this.ctx;
    const names = this.probe.kernelNames();
    const now = nowBootNs();
    dispatch(connPipelineEvent(markerEvent('begin', now), emptyEnrichment(), this.id));
    for (const r of rows) {
      const exe = names?.exe(r.exeIno, r.exeDev) ?? '';
      const ev = rowEvent(r, exe, now);
      dispatch(connPipelineEvent(ev, enricher.enrichOwner(ev.pid, exe, ev.cgroupId, now), this.id));
    }
    for (const t of transitions) dispatch(connPipelineEvent(transitionEvent(t, now), emptyEnrichment(), this.id));
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
    return { socketOwners: this.probe.ownersFd() };
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.probe.stop(); // hands over what the ring and the counters still hold
    this.removeCgroupSource?.();
    this.removeCgroupSource = null;
  }
}
