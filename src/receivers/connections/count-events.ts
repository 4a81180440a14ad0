// One collection of the kernel's counters as pipeline events: a `begin` marker, then a `count`
// event per row, carrying the attributes where the metric extractors look for them (the receiver
// dispatches these; the pipeline benchmark feeds its model of the kernel through the same path).
import type { Enricher } from '../../enrich/enricher';
import { emptyEnrichment } from '../../enrich/types';
import type { ConnCounts, ConnEvent, KernelHistogram } from './event';
import { connPipelineEvent, type ConnPipelineEvent } from './pipeline-event';
import type { CountRow, TransitionRow } from './tables';

const NS_PER_S = 1e9;
const US_PER_S = 1e6;

/** A row that counts nothing: what each kind of row adds its own counts to. */
export const NO_COUNTS: Omit<ConnCounts, 'row'> = {
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

export interface Collection {
  readonly rows: readonly CountRow[];
  readonly transitions: readonly TransitionRow[];
  /** The executable's name for a row's (inode, device) ('' when the kernel could not name it). */
  readonly exeName: (ino: number, dev: number) => string;
}

/** One collection's events, after the marker that starts it; row owners are enriched as records' are. */
export function dispatchCollection(c: Collection, enricher: Enricher, receiver: string, bootNs: number, dispatch: (ev: ConnPipelineEvent) => void): void {
  dispatch(connPipelineEvent(markerEvent('begin', bootNs), emptyEnrichment(), receiver));
  for (const r of c.rows) {
    const exe = c.exeName(r.exeIno, r.exeDev);
    const ev = rowEvent(r, exe, bootNs);
    dispatch(connPipelineEvent(ev, enricher.enrichOwner(ev.pid, exe, ev.cgroupId, bootNs), receiver));
  }
  for (const t of c.transitions) dispatch(connPipelineEvent(transitionEvent(t, bootNs), emptyEnrichment(), receiver));
}
