// A model of what bpf/conn counts in the kernel, for unit tests that feed synthetic connection
// records to the metric sinks: the rows one collection of the real probe would hand over for
// these records (test/e2e/conn-probe.test.ts checks the kernel itself against real traffic).
import type { ConnPipelineEvent } from '../../src/pipeline/event';
import type { ConnCounts, KernelHistogram, TcpState } from '../../src/receivers/connections/event';
import { AFTER_ESTABLISHED } from '../../src/receivers/connections/attributes';
import { METRIC, METRICS } from '../../src/catalogue/generated';
import { DEFAULT_RTT_BUCKETS_US } from '../../src/receivers/connections/config';
import { NO_COUNTS as NONE } from '../../src/receivers/connections/count-events';

/** count.h bucket_of(): the first bound the value does not exceed, or the last bucket (+Inf). */
function histogram(value: number, bounds: readonly number[]): KernelHistogram {
  const buckets = new Array<number>(bounds.length + 1).fill(0);
  let i = 0;
  while (i < bounds.length && value > bounds[i]!) i++;
  buckets[i] = 1;
  return { buckets, sum: value, count: 1 };
}

/** States the iterator does not count as open: it skips listeners, and closed sockets are gone. */
const NOT_OPEN: ReadonlySet<TcpState> = new Set(['listen', 'closed', 'unknown']);

export interface KernelCountOptions {
  rttBoundsS?: readonly number[];
  durationBoundsS?: readonly number[];
}

/**
 * One conn probe across collections: like the kernel, it remembers which sockets are still open
 * (socket-local storage, walked by the iterator at every collection), so a socket opened in one
 * interval is counted as open in the next ones until it closes.
 */
export class KernelCounts {
  private readonly rttBounds: readonly number[];
  private readonly durationBounds: readonly number[];
  /** Sockets open now, by socket, with their last record (its attributes and state). */
  private readonly open = new Map<bigint, ConnPipelineEvent>();
  /** Sockets that reached established (a close with an error after it is not a failed connect). */
  private readonly established = new Set<bigint>();
  /** A record of this probe, to give the `begin` marker its receiver when a collection has none. */
  private template: ConnPipelineEvent | undefined;

  constructor(opts: KernelCountOptions = {}) {
    this.rttBounds = opts.rttBoundsS ?? DEFAULT_RTT_BUCKETS_US.map((us) => us / 1e6);
    this.durationBounds = opts.durationBoundsS ?? METRICS[METRIC.CONNECTION_DURATION].buckets ?? [];
  }

  /** The records followed by the rows of the collection that follows them. */
  collect(events: readonly ConnPipelineEvent[]): ConnPipelineEvent[] {
    return [...events, ...this.rows(events)];
  }

  /**
   * One collection's counter rows: a `begin`, a row per counted thing (rows may repeat attributes:
   * the sinks add them up), and the sockets still open by state (from every collection so far).
   */
  rows(events: readonly ConnPipelineEvent[]): ConnPipelineEvent[] {
    const row = (ev: ConnPipelineEvent, counts: Partial<ConnCounts> & Pick<ConnCounts, 'row'>, over: Partial<ConnPipelineEvent> = {}): ConnPipelineEvent => ({
      ...ev,
      kind: 'count',
      sock: 0n,
      ...over,
      counts: { ...NONE, ...counts },
    });
    const rows: ConnPipelineEvent[] = [];
    for (const ev of events) {
      if (ev.kind === 'count') continue;
      this.template ??= ev;
      // An accepted socket is established (or later) when accept() returns it, whatever the record says.
      const state = ev.kind === 'accept' && ev.newState === 'unknown' ? 'established' : ev.newState;
      if (state === 'established') this.established.add(ev.sock);
      switch (ev.kind) {
        case 'connect': // cgroup/connect4|6: TCP and UDP alike
        case 'accept': // the accept syscalls' exit
          rows.push(row(ev, { row: 'conn', opened: 1 }));
          break;
        case 'state': // conn_state: count_transition() whether or not the record is written
          rows.push(row(ev, { row: 'transitions', transitions: 1 }));
          break;
        case 'close': {
          // on_close(): the transition, what the iterator did not flush yet, and the histograms
          // only for connections that were established; a failure only for those that were not.
          rows.push(row(ev, { row: 'transitions', transitions: 1 }));
          const reached = this.established.has(ev.sock) || AFTER_ESTABLISHED.has(ev.oldState);
          rows.push(
            row(ev, {
              row: 'conn',
              bytesSent: ev.bytesSent,
              bytesReceived: ev.bytesReceived,
              retransmits: ev.retransmits,
              duration: reached && ev.durationNs > 0 ? histogram(ev.durationNs / 1e9, this.durationBounds) : undefined,
              rtt: reached && ev.srttUs > 0 ? histogram(ev.srttUs / 1e6, this.rttBounds) : undefined,
            }),
          );
          if (ev.error !== 0 && !reached) rows.push(row(ev, { row: 'failed', failed: 1 }));
          this.open.delete(ev.sock);
          this.established.delete(ev.sock);
          continue;
        }
        case 'existing': // adopted by the iterator: open, never counted as opened
          break;
      }
      if (ev.transport !== 'tcp') continue; // the iterator walks TCP sockets only
      if (!NOT_OPEN.has(state)) this.open.set(ev.sock, { ...ev, newState: state });
      else if (ev.kind === 'state') this.open.delete(ev.sock);
    }
    const first = this.template;
    if (!first) return rows;
    const begin = row(first, { row: 'begin' }, { process: undefined, container: undefined, nomad: undefined });
    return [begin, ...rows, ...[...this.open.values()].map((ev) => row(ev, { row: 'active', active: 1 }))];
  }
}

/** The records followed by the rows one collection would produce for them (a fresh probe). */
export function withKernelCounts(events: readonly ConnPipelineEvent[], opts: KernelCountOptions = {}): ConnPipelineEvent[] {
  return new KernelCounts(opts).collect(events);
}
