// A zero-copy BPF ring-buffer reader in JS: the map is mmapped as the kernel lays it out
// (kernel/bpf/ringbuf.c: consumer page rw, producer page + data ro, data mapped twice back to
// back so a record that wraps is contiguous) and records are walked straight out of that memory.
import koffi from 'koffi';
import { KernelError } from '../errors';
import { rootLogger } from '../log';
import { MAP_FAILED, MAP_SHARED, PROT_READ, PROT_WRITE, Ptr, c } from './libbpf';
import { describeErrno, lastErrno } from './errno';
import type { BpfMap } from './object';

/** Record header (struct bpf_ringbuf_hdr): u32 len with these flag bits, u32 pg_off. */
const BPF_RINGBUF_BUSY_BIT = 0x80000000;
const BPF_RINGBUF_DISCARD_BIT = 0x40000000;
const BPF_RINGBUF_HDR_SZ = 8;
const RECORD_ALIGN = 8;
/**
 * A record's header must be read with acquire order (libbpf: smp_load_acquire), so that its bytes,
 * read after it, are the committed ones. On x86-64 a plain load has it: x86-TSO never reorders a
 * load with a later load, and the kernel commits the header with a locked xchg after writing the
 * record; the record's bytes are read only later, at offsets this walk stores. There V8's
 * Atomics.load only adds a builtin call per record (the JS drain went from ~90 % to ~100 % of
 * libbpf's ring_buffer__consume in the reader benchmark). Other architectures keep Atomics.load.
 */
const PLAIN_HEADER_LOADS = process.arch === 'x64';

/**
 * A batch of records, valid only during the callback: offsets point into `bytes`/`view`, which
 * map the ring itself. The reader advances consumer_pos only after the callback returns.
 */
export interface RecordBatch {
  readonly view: DataView;
  readonly bytes: Uint8Array;
  readonly offsets: Uint32Array;
  readonly lengths: Uint32Array;
  count: number;
}

export interface RingReaderOptions {
  /** Max records handed over per batch, and per event-loop turn. */
  maxBatch?: number;
  /** Drain on this timer too: BPF programs may submit with BPF_RB_NO_WAKEUP. */
  pollIntervalMs?: number;
  /** Called for every batch; must not keep references to the batch. */
  onBatch: (batch: RecordBatch) => void;
  /** Called when the ring itself is inconsistent (a record longer than the ring). */
  onCorrupt?: (reason: string) => void;
}

export class RingBufferReader {
  private readonly pageSize = c.getpagesize() as number;
  private readonly size: number;
  private readonly mask: number;
  private consPtr: Ptr = 0n;
  private prodPtr: Ptr = 0n;
  private readonly cons64: BigUint64Array;
  private readonly cons32: Uint32Array;
  private readonly prod32: Uint32Array;
  private readonly data: DataView;
  private readonly dataBytes: Uint8Array;
  private readonly hdr32: Int32Array;
  private readonly batch: RecordBatch;
  private readonly maxBatch: number;
  private poller: { stop(): void; close(): void } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private scheduled = false;
  private closed = false;
  /** Records handed to onBatch, and records skipped because the kernel discarded them. */
  records = 0;
  discarded = 0;
  drains = 0;

  constructor(
    private readonly map: BpfMap,
    private readonly opts: RingReaderOptions,
  ) {
    this.size = map.maxEntries;
    this.mask = this.size - 1;
    this.maxBatch = opts.maxBatch ?? 8192;
    const cons = c.mmap(null, this.pageSize, PROT_READ | PROT_WRITE, MAP_SHARED, map.fd, 0) as Ptr;
    if (cons === MAP_FAILED) throw this.mmapError('consumer page');
    this.consPtr = cons;
    const prodLen = this.pageSize + 2 * this.size;
    const prod = c.mmap(null, prodLen, PROT_READ, MAP_SHARED, map.fd, this.pageSize) as Ptr;
    if (prod === MAP_FAILED) {
      const err = this.mmapError('producer page and data');
      c.munmap(cons, this.pageSize);
      throw err;
    }
    this.prodPtr = prod;
    const consBuf = koffi.view(cons, this.pageSize);
    const prodBuf = koffi.view(prod, prodLen);
    this.cons64 = new BigUint64Array(consBuf, 0, 1);
    this.cons32 = new Uint32Array(consBuf, 0, 2);
    this.prod32 = new Uint32Array(prodBuf, 0, 2);
    this.data = new DataView(prodBuf, this.pageSize, 2 * this.size);
    this.dataBytes = new Uint8Array(prodBuf, this.pageSize, 2 * this.size);
    this.hdr32 = new Int32Array(prodBuf, this.pageSize, (2 * this.size) / 4);
    this.batch = {
      view: this.data,
      bytes: this.dataBytes,
      offsets: new Uint32Array(this.maxBatch),
      lengths: new Uint32Array(this.maxBatch),
      count: 0,
    };
  }

  private mmapError(what: string): KernelError {
    const errno = lastErrno();
    return new KernelError(`mmap of ring buffer ${this.map.name} (${what}) failed: ${describeErrno(errno)}`, errno, 'mmap');
  }

  /** Start draining on epoll readiness of the map fd (libuv's poll) and on a timer. */
  start(): void {
    const poll = koffi.node.poll(this.map.fd, { readable: true }, () => this.schedule());
    this.poller = poll;
    const every = this.opts.pollIntervalMs ?? 10;
    this.timer = setInterval(() => this.schedule(), every);
    this.timer.unref();
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.closed) return;
      // One batch per turn keeps the event loop responsive; come back if there is more.
      if (this.drainOnce() === this.maxBatch) this.schedule();
    });
  }

  /** Drain everything available now (used at stop and in tests). */
  drain(): number {
    let total = 0;
    for (;;) {
      const n = this.drainOnce();
      total += n;
      if (n < this.maxBatch) return total;
    }
  }

  /** Hand over at most one batch; returns the number of records handed over. */
  drainOnce(): number {
    if (this.closed) return 0;
    this.drains++;
    // Positions are u64; the low 32 bits suffice for offsets and distances (ring < 4 GiB).
    // Atomics give the acquire/release ordering the kernel's smp_store_release pairs with.
    const consLo = Atomics.load(this.cons32, 0);
    const prodLo = Atomics.load(this.prod32, 0);
    const avail = (prodLo - consLo) >>> 0;
    if (avail === 0) return 0;
    const b = this.batch;
    let advanced = 0;
    let n = 0;
    while (advanced < avail && n < this.maxBatch) {
      const off = ((consLo + advanced) >>> 0) & this.mask;
      // off is masked into the data area, which hdr32 covers.
      const len = (PLAIN_HEADER_LOADS ? this.hdr32[off >>> 2]! : Atomics.load(this.hdr32, off >>> 2)) >>> 0;
      if (len & BPF_RINGBUF_BUSY_BIT) break; // still being written: stop here, come back later
      const recLen = len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
      if (recLen > this.size) {
        this.opts.onCorrupt?.(`record length ${recLen} exceeds ring size ${this.size}`);
        break;
      }
      if (len & BPF_RINGBUF_DISCARD_BIT) this.discarded++;
      else {
        b.offsets[n] = off + BPF_RINGBUF_HDR_SZ;
        b.lengths[n] = recLen;
        n++;
      }
      advanced += (recLen + BPF_RINGBUF_HDR_SZ + RECORD_ALIGN - 1) & ~(RECORD_ALIGN - 1);
    }
    if (n > 0) {
      b.count = n;
      try {
        this.opts.onBatch(b);
      } catch (e) {
        rootLogger.error('ring buffer consumer threw; records skipped', { ring: this.map.name, error: e as Error });
      }
      this.records += n;
    }
    if (advanced > 0) {
      const next = Atomics.load(this.cons64, 0) + BigInt(advanced);
      Atomics.store(this.cons64, 0, next);
    }
    return n;
  }

  /** Stop reading, drain what is left once, and unmap. */
  close(): void {
    if (this.closed) return;
    this.poller?.stop();
    this.poller?.close();
    this.poller = null;
    if (this.timer) clearInterval(this.timer);
    this.drain();
    this.closed = true;
    c.munmap(this.consPtr, this.pageSize);
    c.munmap(this.prodPtr, this.pageSize + 2 * this.size);
  }
}
