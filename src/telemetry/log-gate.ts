// Sampling and a per-second cap on one receiver's log records (receivers.<id>.logs), shared by
// every receiver type whose events become log records.
import type { Logger } from '../log';

export interface LogLimits {
  /** Fraction kept, (0, 1]. */
  readonly sampling_ratio: number;
  /** Records per second at most; 0 = no cap. */
  readonly max_per_second: number;
}

export class LogGate {
  private second = 0;
  private inSecond = 0;
  private warned = false;
  /** Records dropped by sampling, and by the cap. */
  sampledOut = 0;
  rateLimited = 0;

  /** `what` names the records in the one warning, e.g. `connection log records of receivers.connections`. */
  constructor(
    private readonly limits: LogLimits,
    private readonly what: string,
    private readonly log: Logger,
    private readonly random = Math.random,
  ) {}

  /** Whether the next record goes out. */
  admit(): boolean {
    const { sampling_ratio: ratio, max_per_second: max } = this.limits;
    if (ratio < 1 && this.random() >= ratio) {
      this.sampledOut++;
      return false;
    }
    if (max === 0) return true;
    // Fixed one-second windows of wall-clock time: cheap, and bursts at a boundary are bounded by 2x.
    const now = Math.floor(Date.now() / 1000);
    if (now !== this.second) {
      this.second = now;
      this.inSecond = 0;
    }
    if (this.inSecond < max) {
      this.inSecond++;
      return true;
    }
    this.rateLimited++;
    if (!this.warned) this.log.warn(`${this.what} are capped at ${max}/s (logs.max_per_second); the excess is dropped`);
    this.warned = true;
    return false;
  }
}
