// The kernel's counters: per-interval tables of conn_key → conn_counts (per CPU), alternating on
// bit 0 of the epoch (see src/kernel/epoch-rotation.ts), and the cumulative transitions array.
// Rows come out with their attributes decoded; the owner stays compact ids until enrichment.
import { forEachBatch, perCpuValueSize, updateElem } from '../../kernel/maps';
import type { BpfMap } from '../../kernel/object';
import { formatIPv4, formatIPv6 } from '../../wire/addr';
import { TCP_STATES, type TcpState } from '../../wire/tcp-states';
import type { Direction, NetworkType, Transport } from './event';
import { AF_INET, AF_INET6, CONN_COUNTS, CONN_HIST_BUCKETS, CONN_KEY, CONN_KEY_KIND, CONN_STATES, IPPROTO_UDP } from './layout';

const K = CONN_KEY.fields;
const C = CONN_COUNTS.fields;
const U32_KEY_SIZE = 4;
const U64 = 8;
const MAX_CHUNK = 1024;
const DIRECTIONS: readonly Direction[] = ['unknown', 'outbound', 'inbound'];

export type RowKind = 'conn' | 'failed' | 'active' | 'overflow';

/** One counter row of an interval, summed over CPUs. Histogram buckets as the kernel's bounds cut them. */
export interface CountRow {
  kind: RowKind;
  cgroupId: number;
  exeIno: number;
  exeDev: number;
  tgid: number;
  peer: string;
  serverPort: number;
  clientPort: number;
  networkType: NetworkType;
  transport: Transport;
  direction: Direction;
  state: TcpState;
  error: number;
  opened: number;
  failed: number;
  active: number;
  bytesSent: number;
  bytesReceived: number;
  retransmits: number;
  durationBuckets: number[];
  durationCount: number;
  durationSumNs: number;
  rttBuckets: number[];
  rttCount: number;
  rttSumUs: number;
}

export interface TransitionRow {
  direction: Direction;
  oldState: TcpState;
  newState: TcpState;
  count: number;
}

export interface ConnTableMaps {
  counts: readonly [BpfMap, BpfMap];
  control: BpfMap;
  transitions: BpfMap;
}

const KINDS: Partial<Record<number, RowKind>> = {
  [CONN_KEY_KIND.CONN]: 'conn',
  [CONN_KEY_KIND.FAILED]: 'failed',
  [CONN_KEY_KIND.ACTIVE]: 'active',
  [CONN_KEY_KIND.OVERFLOW]: 'overflow',
};

function u64(b: Buffer, at: number): number {
  return b.readUInt32LE(at) + b.readUInt32LE(at + 4) * 4294967296;
}

export class ConnTables {
  /** The epoch the kernel counts under now; bit 0 is the table. */
  epoch = 0;
  /** Rows counted into a table's overflow row since start (the table was full). */
  overflowed = 0;
  private readonly overflowKey = Buffer.alloc(CONN_KEY.size);
  private readonly previousTransitions: Float64Array;
  private readonly valueSize = perCpuValueSize(CONN_COUNTS.size);
  private readonly cpus = this.valueSize / CONN_COUNTS.size;

  constructor(
    private readonly maps: ConnTableMaps,
    /** Buckets used per histogram: bounds + 1 (the rest of the kernel's fixed array stays 0). */
    private readonly durationBuckets: number,
    private readonly rttBuckets: number,
  ) {
    this.overflowKey.writeUInt8(CONN_KEY_KIND.OVERFLOW, K.kind);
    this.previousTransitions = new Float64Array(maps.transitions.maxEntries);
    this.readTransitions(); // a baseline: what was counted before this start is not ours
    for (const t of maps.counts) this.insertOverflowRow(t);
  }

  /** Every table keeps an overflow row, so a full table still counts everything (without attributes). */
  private insertOverflowRow(table: BpfMap): void {
    updateElem(table.fd, this.overflowKey, Buffer.alloc(this.valueSize));
  }

  /** Make the kernel count under the next epoch; returns the one it leaves. */
  advance(): number {
    const retired = this.epoch;
    this.epoch++;
    this.writeControl(false);
    return retired;
  }

  /**
   * While on, the socket iterator only takes existing sockets' byte counters as their starting
   * point and counts nothing open (the agent's start-up pass; the first interval's pass counts).
   */
  baseline(on: boolean): void {
    this.writeControl(on);
  }

  /** struct conn_control: the epoch, then the baseline flag. */
  private writeControl(baseline: boolean): void {
    const value = Buffer.alloc(2 * U64);
    value.writeBigUInt64LE(BigInt(this.epoch), 0);
    value.writeBigUInt64LE(baseline ? 1n : 0n, U64);
    updateElem(this.maps.control.fd, Buffer.alloc(U32_KEY_SIZE), value);
  }

  /** Read and clear the table of `epoch` (no program writes it any more), then restore its overflow row. */
  collect(epoch: number): CountRow[] {
    const rows: CountRow[] = [];
    const table = this.maps.counts[epoch & 1]!; // a pair, alternating
    const vs = this.valueSize;
    forEachBatch(table.fd, CONN_KEY.size, vs, Math.min(table.maxEntries, MAX_CHUNK), true, (b) => {
      for (let i = 0; i < b.count; i++) {
        const row = this.row(b.keys, i * CONN_KEY.size, b.values, i * vs);
        if (row) rows.push(row);
      }
    });
    this.insertOverflowRow(table);
    return rows;
  }

  private row(k: Buffer, ko: number, v: Buffer, vo: number): CountRow | undefined {
    const kind = KINDS[k.readUInt8(ko + K.kind)];
    if (!kind) return undefined;
    const sum = (field: number): number => {
      let n = 0;
      for (let c = 0; c < this.cpus; c++) n += u64(v, vo + c * CONN_COUNTS.size + field);
      return n;
    };
    const buckets = (field: number, used: number): number[] => {
      const out = new Array<number>(used).fill(0);
      for (let i = 0; i < CONN_HIST_BUCKETS; i++) {
        const n = sum(field + i * U64);
        if (n === 0) continue;
        out[Math.min(i, used - 1)]! += n; // the kernel never fills past `used`; guard anyway
      }
      return out;
    };
    const opened = sum(C.opened);
    const row: CountRow = {
      kind,
      cgroupId: u64(k, ko + K.cgroup_id),
      exeIno: u64(k, ko + K.exe_ino),
      exeDev: k.readUInt32LE(ko + K.exe_dev),
      tgid: k.readUInt32LE(ko + K.tgid),
      peer: '',
      serverPort: k.readUInt16LE(ko + K.server_port),
      clientPort: k.readUInt16LE(ko + K.client_port),
      networkType: k.readUInt16LE(ko + K.family) === AF_INET6 ? 'ipv6' : 'ipv4',
      transport: k.readUInt8(ko + K.protocol) === IPPROTO_UDP ? 'udp' : 'tcp',
      direction: DIRECTIONS[k.readUInt8(ko + K.direction)] ?? 'unknown',
      state: TCP_STATES[k.readUInt8(ko + K.state)] ?? 'unknown',
      error: k.readInt32LE(ko + K.error),
      opened,
      failed: sum(C.failed),
      active: sum(C.active),
      bytesSent: sum(C.bytes_sent),
      bytesReceived: sum(C.bytes_received),
      retransmits: sum(C.retransmits),
      durationBuckets: buckets(C.duration_buckets, this.durationBuckets),
      durationCount: sum(C.duration_count),
      durationSumNs: sum(C.duration_sum_ns),
      rttBuckets: buckets(C.rtt_buckets, this.rttBuckets),
      rttCount: sum(C.rtt_count),
      rttSumUs: sum(C.rtt_sum_us),
    };
    const family = k.readUInt16LE(ko + K.family);
    const peer = k.subarray(ko + K.peer, ko + K.peer + 16);
    if (peer.some((x) => x !== 0)) row.peer = family === AF_INET ? formatIPv4(peer, 0) : formatIPv6(peer, 0);
    if (kind === 'overflow') {
      const any = row.opened + row.failed + row.active + row.bytesSent + row.bytesReceived + row.retransmits + row.durationCount + row.rttCount;
      if (any === 0) return undefined;
      this.overflowed++;
    }
    return row;
  }

  /** What each (direction, old state, new state) slot gained since the previous read. */
  readTransitions(): TransitionRow[] {
    const out: TransitionRow[] = [];
    const vs = perCpuValueSize(U64);
    const cpus = vs / U64;
    forEachBatch(this.maps.transitions.fd, U32_KEY_SIZE, vs, this.maps.transitions.maxEntries, false, (b) => {
      for (let i = 0; i < b.count; i++) {
        const idx = b.keys.readUInt32LE(i * U32_KEY_SIZE);
        let n = 0;
        for (let c = 0; c < cpus; c++) n += u64(b.values, i * vs + c * U64);
        const delta = n - this.previousTransitions[idx]!; // idx < maxEntries, the array's length
        if (delta <= 0) continue;
        this.previousTransitions[idx] = n;
        const newS = idx % CONN_STATES;
        const oldS = Math.floor(idx / CONN_STATES) % CONN_STATES;
        const dir = Math.floor(idx / (CONN_STATES * CONN_STATES));
        out.push({ direction: DIRECTIONS[dir] ?? 'unknown', oldState: TCP_STATES[oldS] ?? 'unknown', newState: TCP_STATES[newS] ?? 'unknown', count: delta });
      }
    });
    return out;
  }
}
