// Capped exponential backoff with "equal jitter" (Marc Brooker, "Exponential Backoff And Jitter",
// AWS Architecture Blog, 2015): each delay is half fixed and half random, so agents that failed
// together spread out, and no retry ever comes sooner than half the current step.

export class Backoff {
  private attempt = 0;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt, in ms. */
  next(): number {
    const step = Math.min(this.maxMs, this.initialMs * 2 ** this.attempt);
    if (step < this.maxMs) this.attempt++;
    return step / 2 + (this.random() * step) / 2;
  }

  reset(): void {
    this.attempt = 0;
  }
}
