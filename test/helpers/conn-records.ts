// Conn probe records as the kernel writes them (bpf/conn/conn.h, mirrored in
// src/receivers/connections/layout.ts), packed as in the ring — an 8-byte header before each record — so
// that tests and benchmarks feed the decoder exactly what it reads from the mapped ring.
import { isIPv4 } from 'node:net';
import type { RecordBatch } from '../../src/kernel/ringbuf';
import { TCP_STATES, type ConnEvent } from '../../src/receivers/connections/event';
import {
  AF_INET,
  AF_INET6,
  CONN_DIR,
  CONN_EVENT,
  CONN_OWNER,
  CONN_FLAG_OWNER_KNOWN,
  CONN_KIND,
  IPPROTO_TCP,
  IPPROTO_UDP,
} from '../../src/receivers/connections/layout';

/** struct bpf_ringbuf_hdr; records are 8-byte aligned (kernel/bpf/ringbuf.c). */
export const RINGBUF_HDR_SIZE = 8;
/** Bytes one conn record takes in the ring, header included. */
export const CONN_RECORD_STRIDE = RINGBUF_HDR_SIZE + Math.ceil(CONN_EVENT.size / 8) * 8;

const F = CONN_EVENT.fields;
const O = CONN_OWNER.fields;

/**
 * Executable names as the kernel keys them ((inode, device) into its exes map), for records made
 * here: each name gets an inode of its own; `testExeName` is the decoder's lookup over them.
 */
const exeInodes = new Map<string, number>();
const exeNames = new Map<number, string>();
export const TEST_EXE_DEV = 0x800001;
export function testExeInode(name: string): number {
  if (name === '') return 0;
  let ino = exeInodes.get(name);
  if (ino === undefined) {
    ino = 1000 + exeInodes.size;
    exeInodes.set(name, ino);
    exeNames.set(ino, name);
  }
  return ino;
}
export const testExeName = (ino: number, dev: number): string => (dev === TEST_EXE_DEV ? (exeNames.get(ino) ?? '') : '');
const KIND_CODES = { connect: CONN_KIND.CONNECT, accept: CONN_KIND.ACCEPT, state: CONN_KIND.STATE, close: CONN_KIND.CLOSE } as const;
const DIR_CODES = { unknown: CONN_DIR.UNKNOWN, outbound: CONN_DIR.OUTBOUND, inbound: CONN_DIR.INBOUND } as const;

function writeAddress(b: Uint8Array, off: number, addr: string): void {
  if (isIPv4(addr)) {
    addr.split('.').forEach((p, i) => (b[off + i] = Number(p)));
    return;
  }
  // Expand "::" and write eight big-endian groups (enough for the addresses the corpus uses).
  const [head, tail = ''] = addr.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    b[off + 2 * i] = v >> 8;
    b[off + 2 * i + 1] = v & 0xff;
  });
}

/** Write one record as the probe would (only kinds the kernel writes to its ring: no `existing`, no `count`). */
export function encodeConnEvent(v: DataView, b: Uint8Array, o: number, ev: ConnEvent): void {
  if (ev.kind === 'existing' || ev.kind === 'count') throw new Error(`${ev.kind} events are made by the agent, never written to the ring`);
  b.fill(0, o, o + CONN_EVENT.size);
  v.setBigUint64(o + F.ts_ns, BigInt(ev.bootNs), true);
  v.setBigUint64(o + F.sock, ev.sock, true);
  v.setBigUint64(o + F.owner + O.cgroup_id, BigInt(ev.cgroupId), true);
  const ino = testExeInode(ev.exe);
  v.setBigUint64(o + F.owner + O.exe_ino, BigInt(ino), true);
  v.setUint32(o + F.owner + O.exe_dev, ino === 0 ? 0 : TEST_EXE_DEV, true);
  v.setBigUint64(o + F.bytes_sent, BigInt(ev.bytesSent), true);
  v.setBigUint64(o + F.bytes_received, BigInt(ev.bytesReceived), true);
  v.setBigUint64(o + F.duration_ns, BigInt(ev.durationNs), true);
  v.setUint32(o + F.owner + O.tgid, ev.pid, true);
  v.setUint32(o + F.owner + O.tid, ev.tid, true);
  v.setUint32(o + F.netns, ev.netns, true);
  v.setUint32(o + F.srtt_us, ev.srttUs, true);
  v.setUint32(o + F.retransmits, ev.retransmits, true);
  v.setInt32(o + F.error, ev.error, true);
  v.setUint16(o + F.family, ev.networkType === 'ipv4' ? AF_INET : AF_INET6, true);
  v.setUint16(o + F.lport, ev.localPort, true);
  v.setUint16(o + F.rport, ev.remotePort, true);
  v.setUint8(o + F.kind, KIND_CODES[ev.kind]);
  v.setUint8(o + F.protocol, ev.transport === 'tcp' ? IPPROTO_TCP : IPPROTO_UDP);
  v.setUint8(o + F.oldstate, TCP_STATES.indexOf(ev.oldState));
  v.setUint8(o + F.newstate, TCP_STATES.indexOf(ev.newState));
  v.setUint8(o + F.direction, DIR_CODES[ev.direction]);
  v.setUint8(o + F.flags, ev.pid > 0 ? CONN_FLAG_OWNER_KNOWN : 0);
  writeAddress(b, o + F.laddr, ev.localAddress);
  writeAddress(b, o + F.raddr, ev.remoteAddress);
}

/** Events packed as ring records, as one reader batch. */
export function packRecords(events: readonly ConnEvent[]): RecordBatch {
  const bytes = new Uint8Array(events.length * CONN_RECORD_STRIDE);
  const view = new DataView(bytes.buffer);
  const offsets = new Uint32Array(events.length);
  events.forEach((ev, i) => {
    const off = i * CONN_RECORD_STRIDE + RINGBUF_HDR_SIZE;
    view.setUint32(off - RINGBUF_HDR_SIZE, CONN_EVENT.size, true);
    encodeConnEvent(view, bytes, off, ev);
    offsets[i] = off;
  });
  return { view, bytes, offsets, lengths: new Uint32Array(events.length).fill(CONN_EVENT.size), count: events.length };
}
