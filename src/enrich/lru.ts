// A bounded least-recently-used map whose hits allocate nothing: slots live in fixed arrays
// linked by index (the classic doubly-linked-list LRU), so only inserting a new key touches the heap.

export interface LruStats {
  hits: number;
  misses: number;
  evictions: number;
  size: number;
  capacity: number;
}

const NONE = -1;

export class LruCache<K, V> {
  readonly capacity: number;
  private readonly slotOf = new Map<K, number>();
  private readonly keys: (K | undefined)[];
  private readonly values: (V | undefined)[];
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private head = NONE; // most recently used
  private tail = NONE; // least recently used, evicted first
  private used = 0;
  private hits = 0;
  private misses = 0;
  private evictions = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`LRU capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    this.keys = new Array<K | undefined>(capacity).fill(undefined);
    this.values = new Array<V | undefined>(capacity).fill(undefined);
    this.prev = new Int32Array(capacity).fill(NONE);
    this.next = new Int32Array(capacity).fill(NONE);
  }

  get size(): number {
    return this.slotOf.size;
  }

  /** The value, marked most recently used; counts a hit or a miss. */
  get(key: K): V | undefined {
    const slot = this.slotOf.get(key);
    if (slot === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.toFront(slot);
    return this.values[slot];
  }

  /** The value without touching recency or the counters. */
  peek(key: K): V | undefined {
    const slot = this.slotOf.get(key);
    return slot === undefined ? undefined : this.values[slot];
  }

  set(key: K, value: V): void {
    let slot = this.slotOf.get(key);
    if (slot === undefined) {
      if (this.tail !== NONE && this.keys[this.tail] === undefined) {
        slot = this.tail; // a slot freed by delete()
      } else if (this.used < this.capacity) {
        slot = this.used++;
      } else {
        slot = this.tail;
        this.slotOf.delete(this.keys[slot] as K);
        this.evictions++;
      }
      this.keys[slot] = key;
      this.slotOf.set(key, slot);
    }
    this.values[slot] = value;
    this.toFront(slot);
  }

  delete(key: K): boolean {
    const slot = this.slotOf.get(key);
    if (slot === undefined) return false;
    // Park the emptied slot at the tail so the next insert reuses it before evicting anyone.
    this.slotOf.delete(key);
    this.keys[slot] = undefined;
    this.values[slot] = undefined;
    this.unlink(slot);
    this.linkTail(slot);
    return true;
  }

  stats(): LruStats {
    return { hits: this.hits, misses: this.misses, evictions: this.evictions, size: this.size, capacity: this.capacity };
  }

  private toFront(slot: number): void {
    if (this.head === slot) return;
    this.unlink(slot);
    this.prev[slot] = NONE;
    this.next[slot] = this.head;
    if (this.head !== NONE) this.prev[this.head] = slot;
    this.head = slot;
    if (this.tail === NONE) this.tail = slot;
  }

  private linkTail(slot: number): void {
    this.next[slot] = NONE;
    this.prev[slot] = this.tail;
    if (this.tail !== NONE) this.next[this.tail] = slot;
    this.tail = slot;
    if (this.head === NONE) this.head = slot;
  }

  private unlink(slot: number): void {
    // slot, and the links stored in prev/next, are slots of this cache (< capacity) or NONE, checked before use.
    const p = this.prev[slot]!;
    const n = this.next[slot]!;
    if (p !== NONE) this.next[p] = n;
    else if (this.head === slot) this.head = n;
    if (n !== NONE) this.prev[n] = p;
    else if (this.tail === slot) this.tail = p;
    this.prev[slot] = NONE;
    this.next[slot] = NONE;
  }
}
