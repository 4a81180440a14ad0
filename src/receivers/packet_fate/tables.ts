// The kernel's per-interval tables: it counts into one of two per-CPU hashes (bit 0 of the
// epoch in the `control` map); once per interval the agent advances the epoch, waits one RCU
// grace period so no program still writes the retired table, then reads and deletes it in one
// pass. Nothing is lost between reads, and the table only has to hold one interval's keys.
import { forEachBatch, perCpuValueSize, updateElem } from '../../kernel/maps';
import type { BpfMap } from '../../kernel/object';
import type { FateCount } from './event';
import { FATE_CONTROL, FATE_KEY, FATE_KINDS, FATE_OVERFLOW_REASONS } from './layout';
import { FATE_KIND_NAMES } from './event';
import type { FateDecoder } from './decoder';
import type { ReasonNames } from './reasons';

const COUNT_SIZE = 8; // the tables' value: one u64 per CPU
const U32_KEY_SIZE = 4; // control, sampled and overflow are keyed by a u32
const SAMPLED_VALUE_SIZE = 8; // sampled's value: a u64, the records sampled so far
const MAX_CHUNK = 4096;
// Reasons of 255 and above counted while an interval's table was full: the conventions' overflow
// value, which no kernel reason name can be (they never start with `_`).
const OTHER_REASON = '_OTHER';

export interface FateMaps {
  counts: readonly [BpfMap, BpfMap];
  overflow: BpfMap;
  control: BpfMap;
  sampled: BpfMap;
}

export class FateTables {
  /** The epoch the kernel counts under now; bit 0 is the table. */
  epoch = 0;
  /** Rows that reached the overflow counter because a table was full, since start. */
  overflowed = 0;
  private readonly previousOverflow = new Float64Array(FATE_KINDS * FATE_OVERFLOW_REASONS);
  private readonly zero = Buffer.alloc(SAMPLED_VALUE_SIZE);

  constructor(
    private readonly maps: FateMaps,
    private readonly decoder: FateDecoder,
    private readonly reasons: ReasonNames,
  ) {}

  /** Make the kernel count under the next epoch; returns the one it leaves (read it after a grace period). */
  advance(): number {
    const retired = this.epoch;
    this.epoch++;
    const key = Buffer.alloc(U32_KEY_SIZE);
    const value = Buffer.alloc(FATE_CONTROL.size);
    value.writeBigUInt64LE(BigInt(this.epoch), FATE_CONTROL.fields.epoch);
    updateElem(this.maps.control.fd, key, value);
    return retired;
  }

  /** Read and clear the table of `epoch` (no program may still write it) and the new overflow counts. */
  collect(epoch: number): FateCount[] {
    const rows: FateCount[] = [];
    const map = this.maps.counts[epoch & 1]!; // a pair, alternating
    const valueSize = perCpuValueSize(COUNT_SIZE);
    const cpus = valueSize / COUNT_SIZE;
    forEachBatch(map.fd, FATE_KEY.size, valueSize, Math.min(map.maxEntries, MAX_CHUNK), true, (b) => {
      const kv = new DataView(b.keys.buffer, b.keys.byteOffset, b.keys.byteLength);
      const kb = new Uint8Array(b.keys.buffer, b.keys.byteOffset, b.keys.byteLength);
      for (let i = 0; i < b.count; i++) {
        const fields = this.decoder.key(kv, kb, i * FATE_KEY.size);
        if (!fields) continue;
        let n = 0;
        for (let c = 0; c < cpus; c++) n += Number(b.values.readBigUInt64LE(i * valueSize + c * COUNT_SIZE));
        if (n > 0) rows.push({ ...fields, count: n, overflow: false });
      }
    });
    // The retired table's sampling budget starts from zero when it becomes current again.
    const key = Buffer.alloc(U32_KEY_SIZE);
    for (let k = 0; k < FATE_KINDS; k++) {
      key.writeUInt32LE((epoch & 1) * FATE_KINDS + k);
      updateElem(this.maps.sampled.fd, key, this.zero);
    }
    this.collectOverflow(rows);
    return rows;
  }

  /** The overflow counter is cumulative (never deleted, so never racy): report what it gained. */
  private collectOverflow(rows: FateCount[]): void {
    const valueSize = perCpuValueSize(COUNT_SIZE);
    const cpus = valueSize / COUNT_SIZE;
    forEachBatch(this.maps.overflow.fd, U32_KEY_SIZE, valueSize, this.maps.overflow.maxEntries, false, (b) => {
      for (let i = 0; i < b.count; i++) {
        const idx = b.keys.readUInt32LE(i * U32_KEY_SIZE);
        let n = 0;
        for (let c = 0; c < cpus; c++) n += Number(b.values.readBigUInt64LE(i * valueSize + c * COUNT_SIZE));
        // The overflow map has exactly FATE_KINDS * FATE_OVERFLOW_REASONS slots, as previousOverflow.
        const delta = n - this.previousOverflow[idx]!;
        if (delta <= 0) continue;
        this.previousOverflow[idx] = n;
        const kind = FATE_KIND_NAMES[Math.floor(idx / FATE_OVERFLOW_REASONS)];
        if (!kind) continue;
        const r = idx % FATE_OVERFLOW_REASONS;
        const last = r === FATE_OVERFLOW_REASONS - 1;
        const reason =
          kind === 'drop' ? (last ? OTHER_REASON : this.reasons.drop(r)) : kind === 'reset_sent' ? (last ? OTHER_REASON : this.reasons.reset(r)) : '';
        this.overflowed++;
        rows.push({ kind, reason, netns: 0, ifindex: 0, interfaceName: '', pid: 0, comm: '', cgroupId: 0, count: delta, overflow: true });
      }
    });
  }
}
