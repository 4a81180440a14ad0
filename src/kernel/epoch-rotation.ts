// Alternating per-interval kernel tables: the kernel counts into the table bit 0 of an epoch picks;
// to end an interval the agent advances the epoch, waits one grace period (so no program still
// writes the retired table), then reads and deletes it. One interval is retired at a time.
import { waitForBpfReaders, waitForBpfReadersSync } from './grace';

export class EpochRotation {
  private pending: { epoch: number; done: boolean } | null = null;

  constructor(
    /** Make the kernel count under the next epoch; returns the one it leaves. */
    private readonly advance: () => number,
    /** Read (and clear) the retired epoch's table: no program writes it any more. */
    private readonly collect: (epoch: number) => void,
  ) {}

  /** End the current interval; the retired table is collected after a grace period. */
  async rotate(): Promise<void> {
    if (this.pending) return;
    const p = { epoch: this.advance(), done: false };
    this.pending = p;
    await waitForBpfReaders();
    if (p.done) return; // a synchronous rotation or stop already took it
    this.pending = null;
    p.done = true;
    this.collect(p.epoch);
  }

  /** End the current interval now, blocking for the grace period (explicit flushes, stop). */
  rotateSync(): void {
    // A table still being retired must be read before its parity comes round again.
    if (this.pending) {
      waitForBpfReadersSync();
      this.finishPending();
    }
    const retired = this.advance();
    waitForBpfReadersSync();
    this.collect(retired);
  }

  /** Collect the table still being retired, now: the caller has waited out a grace period (stop, after detaching). */
  finishPending(): void {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    p.done = true;
    this.collect(p.epoch);
  }
}
