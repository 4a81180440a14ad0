// A model of what bpf/conn counts in the kernel, for unit tests that feed synthetic connection
// records to the metric sinks: the rows one collection of the real probe would hand over for
// these records (test/e2e/conn-probe.test.ts checks the kernel itself against real traffic).
import type { ConnPipelineEvent } from '../../src/pipeline/event';
import type { ConnCounts, KernelHistogram, TcpState } from '../../src/receivers/connections/event';
import { AFTER_ESTABLISHED } from '../../src/receivers/connections/attributes';
import { METRIC, METRICS } from '../../src/catalogue/generated';
import { DEFAULT_RTT_BUCKETS_US } from '../../src/receivers/connections/config';

const NONE: Omit<ConnCounts, 'row'> = {
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

function histogram(value: number, bounds: readonly number[]): KernelHistogram {
  const buckets = new Array<number>(bounds.length + 1).fill(0);
  let i = 0;
  while (i < bounds.length && value > bounds[i]!) i++;
  buckets[i] = 1;
  return { buckets, sum: value, count: 1 };
}

const NOT_OPEN: ReadonlySet<TcpState> = new Set(['listen', 'closed', 'unknown']);

/**
 * The records followed by one collection's counter rows: a `begin`, a row per counted thing (rows
 * may repeat attributes: the sinks add them up), and the sockets still open by state.
 */
export function withKernelCounts(
  events: readonly ConnPipelineEvent[],
  opts: { rttBoundsS?: readonly number[]; durationBoundsS?: readonly number[] } = {},
): ConnPipelineEvent[] {
  const rttBounds = opts.rttBoundsS ?? DEFAULT_RTT_BUCKETS_US.map((us) => us / 1e6);
  const durationBounds = opts.durationBoundsS ?? METRICS[METRIC.CONNECTION_DURATION].buckets ?? [];
  const row = (ev: ConnPipelineEvent, counts: Partial<ConnCounts> & Pick<ConnCounts, 'row'>, over: Partial<ConnPipelineEvent> = {}): ConnPipelineEvent => ({
    ...ev,
    kind: 'count',
    sock: 0n,
    ...over,
    counts: { ...NONE, ...counts },
  });
  const out: ConnPipelineEvent[] = [...events];
  const rows: ConnPipelineEvent[] = [];
  const established = new Set<bigint>();
  const open = new Map<bigint, ConnPipelineEvent>();
  for (const ev of events) {
    if (ev.kind === 'count') continue;
    if (ev.newState === 'established') established.add(ev.sock);
    switch (ev.kind) {
      case 'connect':
      case 'accept':
        rows.push(row(ev, { row: 'conn', opened: 1 }));
        break;
      case 'state':
        rows.push(row(ev, { row: 'transitions', transitions: 1 }));
        break;
      case 'close': {
        rows.push(row(ev, { row: 'transitions', transitions: 1 }));
        const reached = established.has(ev.sock) || AFTER_ESTABLISHED.has(ev.oldState);
        rows.push(
          row(ev, {
            row: 'conn',
            bytesSent: ev.bytesSent,
            bytesReceived: ev.bytesReceived,
            duration: reached && ev.durationNs > 0 ? histogram(ev.durationNs / 1e9, durationBounds) : undefined,
            rtt: reached && ev.srttUs > 0 ? histogram(ev.srttUs / 1e6, rttBounds) : undefined,
          }),
        );
        if (ev.error !== 0 && !reached) rows.push(row(ev, { row: 'failed', failed: 1 }));
        open.delete(ev.sock);
        continue;
      }
      case 'existing':
        break;
    }
    if (ev.transport === 'tcp' && !NOT_OPEN.has(ev.newState)) open.set(ev.sock, ev);
    else if (ev.kind === 'state' && NOT_OPEN.has(ev.newState)) open.delete(ev.sock);
  }
  const first = events[0];
  if (first) out.push(row(first, { row: 'begin' }, { process: undefined, container: undefined, nomad: undefined }));
  out.push(...rows);
  for (const ev of open.values()) out.push(row(ev, { row: 'active', active: 1 }));
  return out;
}
