// A bounded window of the most recent events of one source: a fixed-size ring (the oldest event is
// overwritten), read newest first. Adding is one array store, cheap enough for the per-event path.

export interface Timed {
  /** Wall clock, ms since the epoch. */
  readonly timeUnixMs: number;
}

export interface WindowStats {
  /** Events held now (at most `capacity`). */
  held: number;
  capacity: number;
  /** Events added since the start, and those pushed out by newer ones. */
  added: number;
  evicted: number;
  maxAgeMs: number;
}

export interface WindowQuery<T> {
  /** Only events at or after / before this wall-clock time (ms). */
  sinceUnixMs?: number;
  untilUnixMs?: number;
  match?: (ev: T) => boolean;
}

export class EventWindow<T extends Timed> {
  private ring: (T | undefined)[];
  private next = 0;
  private held = 0;
  private added = 0;

  constructor(
    private capacity: number,
    private maxAgeMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.ring = new Array<T | undefined>(capacity);
  }

  add(ev: T): void {
    this.ring[this.next] = ev;
    this.next = this.next + 1 === this.capacity ? 0 : this.next + 1;
    if (this.held < this.capacity) this.held++;
    this.added++;
  }

  /** Apply new limits (hot reload), keeping the newest events that still fit. */
  configure(capacity: number, maxAgeMs: number): void {
    this.maxAgeMs = maxAgeMs;
    if (capacity === this.capacity) return;
    const kept = this.raw().slice(0, capacity).reverse();
    this.capacity = capacity;
    this.ring = new Array<T | undefined>(capacity);
    for (let i = 0; i < kept.length; i++) this.ring[i] = kept[i];
    this.held = kept.length;
    this.next = kept.length % capacity;
  }

  /** Matching events, newest first, never older than max_age; at most `limit`. */
  query(q: WindowQuery<T>, limit = Infinity): T[] {
    const out: T[] = [];
    for (const ev of this.scan(q)) {
      out.push(ev);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Matching events, newest first (a generator, so summaries need no copy of the window). */
  *scan(q: WindowQuery<T> = {}): Generator<T> {
    const oldest = Math.max(this.now() - this.maxAgeMs, q.sinceUnixMs ?? -Infinity);
    const until = q.untilUnixMs ?? Infinity;
    for (let i = 1; i <= this.held; i++) {
      const ev = this.ring[(this.next - i + this.capacity) % this.capacity]!;
      // Newest first by arrival; per-CPU rings can deliver slightly out of time order, so skip, don't stop.
      if (ev.timeUnixMs < oldest || ev.timeUnixMs > until) continue;
      if (q.match && !q.match(ev)) continue;
      yield ev;
    }
  }

  stats(): WindowStats {
    return { held: this.held, capacity: this.capacity, added: this.added, evicted: this.added - this.held, maxAgeMs: this.maxAgeMs };
  }

  /** Everything held, newest first, whatever its age. */
  private raw(): T[] {
    const out: T[] = [];
    for (let i = 1; i <= this.held; i++) out.push(this.ring[(this.next - i + this.capacity) % this.capacity]!);
    return out;
  }
}
