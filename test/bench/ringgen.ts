// The reader benchmark's kernel producer (bpf/ringgen.bpf.c): loaded for one producer process,
// with its ring, its lost and produced counters. Bench only: the agent never loads it.
import { BpfObject, type BpfMap } from '../../src/kernel/object';
import { sumPerCpuU64 } from '../../src/kernel/maps';
import { checkBtf, ensureTracefs } from '../../src/kernel/mounts';
import { CONN_EVENT } from '../../src/receivers/connections/layout';
import { RINGBUF_HDR_SIZE } from '../helpers/conn-records';
import { RINGGEN_OBJECT } from './paths';

/** struct ringgen_head (bpf/ringgen.h). */
export const RINGGEN_HEAD = { size: 16, fields: { magic: 0, index: 4, seq: 8 } } as const;
export const RINGGEN_MAGIC = 0x6e776267;

export interface RinggenOptions {
  /** Producer process (tgid) whose getppid() calls emit records. */
  targetPid: number;
  ringBytes: number;
  /** Bytes per record (default: a conn probe record). */
  recordSize?: number;
  recordsPerHit?: number;
  /** As the probes' wakeup_bytes: 0 wakes the reader on every record. */
  wakeupBytes?: number;
}

export class Ringgen {
  readonly recordSize: number;
  readonly recordsPerHit: number;
  private constructor(
    private readonly obj: BpfObject,
    opts: RinggenOptions,
  ) {
    this.recordSize = opts.recordSize ?? CONN_EVENT.size;
    this.recordsPerHit = opts.recordsPerHit ?? 16;
  }

  static load(opts: RinggenOptions): Ringgen {
    checkBtf();
    ensureTracefs();
    const recordSize = opts.recordSize ?? CONN_EVENT.size;
    if (recordSize < RINGGEN_HEAD.size) throw new Error(`record size ${recordSize} is below the record head (${RINGGEN_HEAD.size} bytes)`);
    const obj = BpfObject.open(RINGGEN_OBJECT, {
      maxEntries: { events: opts.ringBytes },
      rodata: {
        target_tgid: opts.targetPid,
        records_per_hit: opts.recordsPerHit ?? 16,
        record_size: recordSize,
        wakeup_bytes: opts.wakeupBytes ?? 0,
      },
    });
    try {
      obj.load();
      obj.attach('ringgen_hit');
    } catch (e) {
      obj.close();
      throw e;
    }
    return new Ringgen(obj, opts);
  }

  get ring(): BpfMap {
    return this.obj.map('events');
  }

  /** Records that fit in the ring at once (each with its 8-byte header, 8-byte aligned). */
  get capacity(): number {
    return Math.floor(this.ring.maxEntries / (RINGBUF_HDR_SIZE + Math.ceil(this.recordSize / 8) * 8));
  }

  /** Records the kernel could not reserve (ring full), since load. */
  lost(): number {
    return Number(sumPerCpuU64(this.obj.map('lost_events').fd));
  }

  /** Records submitted, since load. */
  produced(): number {
    return Number(sumPerCpuU64(this.obj.map('produced').fd));
  }

  close(): void {
    this.obj.close();
  }
}
