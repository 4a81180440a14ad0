// The pipeline benchmark's input: loopback connections from both ends as the conn probe reports
// them, as ring records (test/helpers/conn-records.ts) filling a ring of the configured size, and
// what one collection of the kernel's counters holds once those connections have closed.
import type { RecordBatch } from '../../src/kernel/ringbuf';
import { METRIC, METRICS } from '../../src/catalogue/generated';
import type { Collection } from '../../src/receivers/connections/count-events';
import { DEFAULT_RTT_BUCKETS_US } from '../../src/receivers/connections/config';
import type { ConnEvent, Direction, TcpState } from '../../src/receivers/connections/event';
import { CONN_EVENT } from '../../src/receivers/connections/layout';
import type { CountRow, TransitionRow } from '../../src/receivers/connections/tables';
import { CONN_RECORD_STRIDE as STRIDE, encodeConnEvent, RINGBUF_HDR_SIZE } from '../helpers/conn-records';

export interface Owner {
  pid: number;
  /** The executable's name, as the kernel records it (test/helpers/conn-records.ts keys it). */
  exe: string;
  cgroupId: number;
}

export interface CorpusOptions {
  /** Bytes of records, as in a ring of this size. */
  ringBytes: number;
  /** Client and server processes, taken in turn. */
  owners: readonly Owner[];
  /** Distinct server ports (the main cardinality of the default metrics). */
  serverPorts: number;
  netns: number;
  bootNs: number;
  /** Histogram bounds in seconds, as the receiver hands them to the kernel (default: the catalogue's). */
  durationBoundsS?: readonly number[];
  rttBoundsS?: readonly number[];
}

export interface Corpus {
  bytes: Uint8Array;
  view: DataView;
  /** Record offsets and lengths, in ring order. */
  offsets: Uint32Array;
  lengths: Uint32Array;
  count: number;
  /** Records per kind, and connections (each seen from both ends). */
  kinds: Record<'connect' | 'accept' | 'state' | 'close', number>;
  connections: number;
  /** The counter rows one collection reads after every connection of the corpus has closed. */
  collection: Collection;
  /** What the metrics must add up to for one replay of the records and one collection. */
  counted: { opened: number; transitions: number };
}

/**
 * The transitions inet_sock_set_state reports for one loopback connection (see
 * test/e2e/conn-probe.test.ts): five at the client, five at the server's child socket, which is
 * inbound from SYN_RECV on. The kernel counts them; the ring has no record of them.
 */
const TRANSITIONS: readonly (readonly [Direction, TcpState, TcpState])[] = [
  ['outbound', 'closed', 'syn_sent'],
  ['inbound', 'listen', 'syn_received'],
  ['outbound', 'syn_sent', 'established'],
  ['inbound', 'syn_received', 'established'],
  ['outbound', 'established', 'fin_wait_1'],
  ['inbound', 'established', 'close_wait'],
  ['outbound', 'fin_wait_1', 'fin_wait_2'],
  ['inbound', 'close_wait', 'last_ack'],
  ['inbound', 'last_ack', 'closed'],
  ['outbound', 'fin_wait_2', 'closed'],
];

/** bpf/conn/count.h bucket_of(): the first bound at or above v, else the last bucket. */
function bucketOf(v: number, bounds: readonly number[]): number {
  const i = bounds.findIndex((b) => v <= b);
  return i < 0 ? bounds.length : i;
}

/**
 * A model of bpf/conn/count.h for these records with the default `include` (no pid, peer or client
 * port in keys): one `conn` row per owner executable and cgroup, direction, family and server port,
 * opened at connect and accept, bytes, duration and RTT added at close; no connection left open.
 */
class KernelCounts {
  private readonly rows = new Map<string, CountRow>();
  private readonly transitions = new Map<string, TransitionRow>();
  private readonly exes = new Map<string, number>();
  private readonly durationBoundsNs: number[];
  private readonly rttBoundsUs: number[];

  constructor(o: CorpusOptions) {
    this.durationBoundsNs = (o.durationBoundsS ?? METRICS[METRIC.CONNECTION_DURATION].buckets ?? []).map((s) => Math.round(s * 1e9));
    this.rttBoundsUs = o.rttBoundsS ? o.rttBoundsS.map((s) => Math.round(s * 1e6)) : [...DEFAULT_RTT_BUCKETS_US];
  }

  /** The executable's identity in keys (its inode; the device stays 0 here). */
  private exeIno(exe: string): number {
    let ino = this.exes.get(exe);
    if (ino === undefined) this.exes.set(exe, (ino = 1000 + this.exes.size));
    return ino;
  }

  private row(ev: ConnEvent): CountRow {
    const inbound = ev.direction === 'inbound';
    const serverPort = inbound ? ev.localPort : ev.remotePort;
    const exeIno = this.exeIno(ev.exe);
    const key = `${ev.cgroupId}/${exeIno}/${ev.direction}/${ev.networkType}/${serverPort}`;
    let r = this.rows.get(key);
    if (!r) {
      r = {
        kind: 'conn',
        cgroupId: ev.cgroupId,
        exeIno,
        exeDev: 0,
        tgid: 0,
        peer: '',
        serverPort,
        clientPort: 0,
        networkType: ev.networkType,
        transport: ev.transport,
        direction: ev.direction,
        state: 'unknown',
        error: 0,
        opened: 0,
        failed: 0,
        active: 0,
        bytesSent: 0,
        bytesReceived: 0,
        retransmits: 0,
        durationBuckets: new Array<number>(this.durationBoundsNs.length + 1).fill(0),
        durationCount: 0,
        durationSumNs: 0,
        rttBuckets: new Array<number>(this.rttBoundsUs.length + 1).fill(0),
        rttCount: 0,
        rttSumUs: 0,
      };
      this.rows.set(key, r);
    }
    return r;
  }

  /** What the kernel counts along with the record `ev` it writes (every close here had reached established). */
  record(ev: ConnEvent): void {
    const r = this.row(ev);
    switch (ev.kind) {
      case 'connect':
      case 'accept':
        r.opened++;
        return;
      case 'close':
        r.bytesSent += ev.bytesSent;
        r.bytesReceived += ev.bytesReceived;
        r.retransmits += ev.retransmits;
        if (ev.durationNs > 0) {
          r.durationBuckets[bucketOf(ev.durationNs, this.durationBoundsNs)]!++;
          r.durationCount++;
          r.durationSumNs += ev.durationNs;
        }
        if (ev.srttUs > 0) {
          r.rttBuckets[bucketOf(ev.srttUs, this.rttBoundsUs)]!++;
          r.rttCount++;
          r.rttSumUs += ev.srttUs;
        }
        return;
      default:
        throw new Error(`the corpus writes no ${ev.kind} records`);
    }
  }

  /** The transitions of one whole connection. */
  connection(): void {
    for (const [direction, oldState, newState] of TRANSITIONS) {
      const key = `${direction}/${oldState}/${newState}`;
      const t = this.transitions.get(key);
      if (t) t.count++;
      else this.transitions.set(key, { direction, oldState, newState, count: 1 });
    }
  }

  collection(): Collection {
    const names = new Map([...this.exes].map(([exe, ino]) => [ino, exe]));
    return { rows: [...this.rows.values()], transitions: [...this.transitions.values()], exeName: (ino) => names.get(ino) ?? '' };
  }
}

/**
 * One loopback connection from both ends, as the conn probe's ring reports it (see
 * test/e2e/conn-probe.test.ts): the client's connect and the server's accept, then each end's
 * close with its lifecycle. Transitions are counted in the kernel, not written to the ring.
 */
function connectionEvents(i: number, client: Owner, server: Owner, serverPort: number, o: CorpusOptions): ConnEvent[] {
  const v6 = i % 4 === 3;
  const lo = v6 ? '::1' : '127.0.0.1';
  const clientPort = 32768 + (i % 28000);
  const t = o.bootNs + i * 25_000;
  const base = {
    bootNs: t,
    tid: 0,
    netns: o.netns,
    transport: 'tcp' as const,
    networkType: v6 ? ('ipv6' as const) : ('ipv4' as const),
    bytesSent: 0,
    bytesReceived: 0,
    srttUs: 0,
    retransmits: 0,
    durationNs: 0,
    error: 0,
    counts: undefined,
  };
  const csock = 0xffff_8880_0000_0000n + BigInt(i) * 0x1000n;
  const ssock = csock + 0x800n;
  const c = {
    ...base,
    sock: csock,
    pid: client.pid,
    tid: client.pid,
    exe: client.exe,
    cgroupId: client.cgroupId,
    direction: 'outbound' as Direction,
    localAddress: lo,
    localPort: clientPort,
    remoteAddress: lo,
    remotePort: serverPort,
  };
  const s = {
    ...base,
    sock: ssock,
    pid: server.pid,
    tid: server.pid,
    exe: server.exe,
    cgroupId: server.cgroupId,
    direction: 'inbound' as Direction,
    localAddress: lo,
    localPort: serverPort,
    remoteAddress: lo,
    remotePort: clientPort,
  };
  const closing = { bytesSent: 64 + (i % 512), bytesReceived: 2 + (i % 64), srttUs: 20 + (i % 40), durationNs: 40_000 + (i % 1000) * 10 };
  return [
    { ...c, kind: 'connect', localAddress: v6 ? '::' : '0.0.0.0', localPort: 0, oldState: 'unknown', newState: 'unknown' },
    { ...s, kind: 'accept', oldState: 'established', newState: 'established', bootNs: t + 5000 },
    {
      ...s,
      ...closing,
      kind: 'close',
      oldState: 'last_ack',
      newState: 'closed',
      bootNs: t + 10_000,
      bytesSent: closing.bytesReceived,
      bytesReceived: closing.bytesSent,
    },
    { ...c, ...closing, kind: 'close', oldState: 'fin_wait_2', newState: 'closed', bootNs: t + 11_000 },
  ];
}

export const EVENTS_PER_CONNECTION = 4;

/** As many whole connections as fit in `ringBytes` of ring records. */
export function buildCorpus(o: CorpusOptions): Corpus {
  const connections = Math.floor(Math.floor(o.ringBytes / STRIDE) / EVENTS_PER_CONNECTION);
  const count = connections * EVENTS_PER_CONNECTION;
  const bytes = new Uint8Array(count * STRIDE);
  const view = new DataView(bytes.buffer);
  const offsets = new Uint32Array(count);
  const lengths = new Uint32Array(count).fill(CONN_EVENT.size);
  const kinds = { connect: 0, accept: 0, state: 0, close: 0 };
  const counts = new KernelCounts(o);
  let n = 0;
  for (let i = 0; i < connections; i++) {
    const client = o.owners[i % o.owners.length];
    const server = o.owners[(i + 1) % o.owners.length];
    counts.connection();
    for (const ev of connectionEvents(i, client, server, 8000 + (i % o.serverPorts), o)) {
      counts.record(ev);
      const off = n * STRIDE + RINGBUF_HDR_SIZE;
      view.setUint32(off - RINGBUF_HDR_SIZE, CONN_EVENT.size, true);
      encodeConnEvent(view, bytes, off, ev);
      offsets[n] = off;
      kinds[ev.kind as keyof typeof kinds]++;
      n++;
    }
  }
  const counted = { opened: 2 * connections, transitions: TRANSITIONS.length * connections };
  return { bytes, view, offsets, lengths, count, kinds, connections, collection: counts.collection(), counted };
}

/** The corpus as reader batches of at most `maxBatch` records (views, no copies). */
export function corpusBatches(c: Corpus, maxBatch: number): RecordBatch[] {
  const out: RecordBatch[] = [];
  for (let i = 0; i < c.count; i += maxBatch) {
    const end = Math.min(c.count, i + maxBatch);
    out.push({ view: c.view, bytes: c.bytes, offsets: c.offsets.subarray(i, end), lengths: c.lengths.subarray(i, end), count: end - i });
  }
  return out;
}
