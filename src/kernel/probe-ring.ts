// A probe's ring and what it could not deliver: the `events` ring buffer read by a
// RingBufferReader and the per-CPU `lost_events` counter every probe declares (bpf/include/
// netwatch.h, NW_DECLARE_RING). The last counts survive close(), so a final export still has them.
import { rootLogger } from '../log';
import { sumPerCpuU64 } from './maps';
import type { BpfObject } from './object';
import { type RecordBatch, RingBufferReader } from './ringbuf';

export interface ProbeRingOptions {
  /** Probe name, for log lines. */
  probe: string;
  pollIntervalMs: number;
  /** Called for every batch; must not keep references to the batch. */
  onBatch: (batch: RecordBatch) => void;
}

export class ProbeRing {
  private readonly reader: RingBufferReader;
  private readonly lostFd: number;
  private lostSeen = 0;
  private closed = false;
  /** Times the ring itself was inconsistent (a record longer than the ring). */
  corrupt = 0;

  /** `obj` must be loaded. */
  constructor(obj: BpfObject, opts: ProbeRingOptions) {
    this.lostFd = obj.map('lost_events').fd;
    this.reader = new RingBufferReader(obj.map('events'), {
      pollIntervalMs: opts.pollIntervalMs,
      onBatch: opts.onBatch,
      onCorrupt: (why) => {
        this.corrupt++;
        rootLogger.child(opts.probe).error('ring buffer inconsistent', { why });
      },
    });
  }

  start(): void {
    this.reader.start();
  }

  /** Hand over everything available now (start-up, tests, shutdown). */
  drain(): void {
    if (!this.closed) this.reader.drain();
  }

  /** Records the kernel could not write because the ring was full, since load. */
  lost(): number {
    if (!this.closed) this.lostSeen = Number(sumPerCpuU64(this.lostFd));
    return this.lostSeen;
  }

  /** Stop reading, drain once, remember the final lost count, unmap. Call before closing the object. */
  close(): void {
    if (this.closed) return;
    this.reader.close();
    this.lost();
    this.closed = true;
  }
}
