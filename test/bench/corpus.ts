// The pipeline benchmark's input: loopback connections from both ends as the conn probe reports
// them, as ring records (test/helpers/conn-records.ts) filling a ring of the configured size.
import type { RecordBatch } from '../../src/kernel/ringbuf';
import type { ConnEvent, Direction } from '../../src/receivers/connections/event';
import { CONN_EVENT } from '../../src/receivers/connections/layout';
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
    { ...s, ...closing, kind: 'close', oldState: 'last_ack', newState: 'closed', bootNs: t + 10_000, bytesSent: closing.bytesReceived, bytesReceived: closing.bytesSent },
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
  let n = 0;
  for (let i = 0; i < connections; i++) {
    const client = o.owners[i % o.owners.length];
    const server = o.owners[(i + 1) % o.owners.length];
    for (const ev of connectionEvents(i, client, server, 8000 + (i % o.serverPorts), o)) {
      const off = n * STRIDE + RINGBUF_HDR_SIZE;
      view.setUint32(off - RINGBUF_HDR_SIZE, CONN_EVENT.size, true);
      encodeConnEvent(view, bytes, off, ev);
      offsets[n] = off;
      kinds[ev.kind as keyof typeof kinds]++;
      n++;
    }
  }
  return { bytes, view, offsets, lengths, count, kinds, connections };
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
