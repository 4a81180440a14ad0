// Per-flow reassembly of ClientHellos from captured TCP segments: bytes are placed by sequence
// number (out of order, duplicated and overlapping segments; first copy of a byte wins), TLS
// records are joined into the handshake message, and a flow is given up on when it exceeds its
// byte or segment budget or goes idle. Flow state is bounded (LRU) and evictions are counted.
// Offsets are relative to isn + 1 when the kernel saw the SYN, else to the first sequence number
// seen; then an earlier segment moves the start back, and rejections wait until the start is sure.
import {
  HELLO_REJECTIONS,
  frameClientHello,
  handshakeMessage,
  parseClientHelloMessage,
  parseSslv2Hello,
  type ClientHello,
  type HelloParseResult,
  type HelloRejection,
} from './client-hello';
import { MAX_HELLOS_PER_FLOW, judgeHello, rememberHello, type RepeatVerdict, type ReportedHello } from './dedupe';

export type FlowDirection =
  /** Seen leaving a local interface: a local client talking to a remote server. */
  | 'egress'
  /** Seen arriving on a local interface: a remote client talking to a local server. */
  | 'ingress';

/** Identifies one direction of a TCP connection (client to server), as the kernel side fills it. */
export interface FlowKey {
  family: 4 | 6;
  /** The client: the sender of the captured segments. */
  srcAddress: string;
  srcPort: number;
  /** The server. */
  dstAddress: string;
  dstPort: number;
  direction: FlowDirection;
  /** Network namespace inode, when the capture spans namespaces that may reuse addresses. */
  netns?: number;
}

/** A compact map key for a flow: `e|10.0.0.1|40000|10.0.0.2|443` (netns appended when set). */
export function flowKeyString(k: FlowKey): string {
  const base = `${k.direction === 'egress' ? 'e' : 'i'}|${k.srcAddress}|${k.srcPort}|${k.dstAddress}|${k.dstPort}`;
  return k.netns === undefined ? base : `${base}|${k.netns}`;
}

/** One captured TCP segment of a client-to-server flow. */
export interface TcpSegment {
  flow: FlowKey;
  /** TCP sequence number of payload[0] (uint32). */
  seq: number;
  /** Captured payload bytes; may be fewer than the segment carried (see wireLength). */
  payload: Uint8Array;
  /** Payload bytes the segment carried; larger than payload.length when the capture cut it short. */
  wireLength?: number;
  /** Sequence number of the flow's SYN when the kernel saw it: stream offset 0 is then isn + 1. */
  isn?: number;
  /** CLOCK_BOOTTIME nanoseconds when the kernel saw the segment. */
  timestampNs: number;
}

/** Why reassembly gave up on a flow before a ClientHello was complete. */
export const REASSEMBLY_GIVE_UPS = [
  /** The hello would need bytes beyond the byte budget. */
  'byte_budget',
  /** More segments arrived than the segment budget allows. */
  'segment_budget',
  /** No segment for longer than the idle timeout. */
  'idle_timeout',
  /** The bytes still needed were cut off by the capture length and can never arrive. */
  'capture_truncated',
] as const;
export type ReassemblyGiveUp = (typeof REASSEMBLY_GIVE_UPS)[number];

/** Every reason a flow ends without a reported ClientHello; telemetry enumerates this. */
export const SNI_REJECTIONS = [...HELLO_REJECTIONS, ...REASSEMBLY_GIVE_UPS] as const;
export type SniRejection = HelloRejection | ReassemblyGiveUp;

export interface ReassemblyOptions {
  /** Flows tracked at once; the least recently used is evicted beyond this. */
  maxFlows: number;
  /** Stream bytes kept per flow (from stream offset 0); a hello needing more is given up. */
  byteBudget: number;
  /** Segments accepted per flow before giving up. */
  segmentBudget: number;
  /** A flow without segments for this long is dropped. */
  idleTimeoutNs: number;
}

const NS_PER_SECOND = 1e9;
/** Defaults: 16 KiB covers post-quantum key shares (~1.2 KiB each) with room for a retried hello. */
export const DEFAULT_REASSEMBLY_OPTIONS: Readonly<ReassemblyOptions> = Object.freeze({
  maxFlows: 1024,
  byteBudget: 16 * 1024,
  segmentBudget: 32,
  idleTimeoutNs: 10 * NS_PER_SECOND,
});
/** First allocation for a flow's bytes: one typical hello; grows by doubling up to byteBudget. */
const INITIAL_BUFFER = 2048;
/** RFC 9293 §3.4: a SYN occupies one sequence number, the ISN. */
const SYN_SEQ_LEN = 1;
const EMPTY = new Uint8Array(0);

export type ReassemblyOutcome =
  | { kind: 'hello'; flow: FlowKey; hello: ClientHello; repeat: RepeatVerdict; timestampNs: number }
  | { kind: 'rejected'; flow: FlowKey; reason: SniRejection; timestampNs: number };

interface FlowState {
  key: string;
  flow: FlowKey;
  /** Finished (hello(s) reported, or given up): kept as a tombstone so later segments are ignored. */
  done: boolean;
  /** Sequence number of stream offset 0 (uint32). */
  base: number;
  /** base came from the SYN, so bytes at offset 0 really start the stream. */
  baseKnown: boolean;
  isn: number | undefined;
  /** Stream bytes [0, buf.length). */
  buf: Uint8Array;
  /** Received stream ranges, sorted and merged: [start0, end0, start1, end1, ...]. */
  cover: number[];
  /** Stream offsets where a captured segment was cut short of its wire length. */
  cuts: number[];
  /** Stream offset where the next ClientHello is expected. */
  cursor: number;
  segments: number;
  lastNs: number;
  /** Verdict on bytes whose start is not confirmed (no SYN seen): final only if no earlier bytes arrive. */
  pending: SniRejection | undefined;
  reported: ReportedHello | undefined;
}

export class HelloReassembler {
  readonly options: Readonly<ReassemblyOptions>;
  /** Flows dropped to make room (LRU). */
  evictions = 0;
  /** Of those, flows that had not produced a hello yet. */
  evictedIncomplete = 0;
  /** Segments for flows already finished. */
  ignoredSegments = 0;
  /** Segments too far before the flow's first byte to be placed. */
  outOfWindow = 0;
  /** Insertion order is recency order: the first entry is the least recently used. */
  private readonly flows = new Map<string, FlowState>();

  constructor(options: Partial<ReassemblyOptions> = {}) {
    this.options = Object.freeze({ ...DEFAULT_REASSEMBLY_OPTIONS, ...options });
  }

  get size(): number {
    return this.flows.size;
  }

  /** Take one segment; append what it completes (hellos, rejections) to `out`. */
  push(seg: TcpSegment, out: ReassemblyOutcome[] = []): ReassemblyOutcome[] {
    if (seg.payload.length === 0) return out;
    const now = seg.timestampNs;
    const key = flowKeyString(seg.flow);
    let f = this.flows.get(key);
    if (f) {
      this.flows.delete(key);
      const isn = seg.isn === undefined ? undefined : seg.isn >>> 0;
      // A different SYN on the same 4-tuple is a new connection; a long silence ends the old state too.
      if ((isn !== undefined && f.isn !== undefined && isn !== f.isn) || now - f.lastNs > this.options.idleTimeoutNs) {
        this.close(f, now, out);
        f = undefined;
      }
    }
    if (!f) {
      if (this.flows.size >= this.options.maxFlows) this.evictOldest();
      f = newFlow(key, seg);
    }
    this.flows.set(key, f);
    if (now > f.lastNs) f.lastNs = now;
    if (f.done) {
      this.ignoredSegments++;
      return out;
    }
    if (++f.segments > this.options.segmentBudget) {
      this.giveUp(f, f.pending ?? 'segment_budget', now, out);
      return out;
    }
    if (!this.place(f, seg)) return out;
    this.evaluate(f, now, out);
    return out;
  }

  /** Drop flows idle for longer than the timeout; incomplete ones are reported as given up. */
  expire(nowNs: number, out: ReassemblyOutcome[] = []): ReassemblyOutcome[] {
    for (const f of this.flows.values()) {
      // Recency order approximates lastNs order, so the first fresh flow ends the sweep.
      if (nowNs - f.lastNs <= this.options.idleTimeoutNs) break;
      this.flows.delete(f.key);
      this.close(f, nowNs, out);
    }
    return out;
  }

  private evictOldest(): void {
    const oldest = this.flows.values().next().value;
    if (!oldest) return;
    this.flows.delete(oldest.key);
    this.evictions++;
    if (!oldest.done && !oldest.reported) this.evictedIncomplete++;
  }

  /** A flow leaves the table: one still waiting for its first hello is counted as given up. */
  private close(f: FlowState, now: number, out: ReassemblyOutcome[]): void {
    if (!f.done && !f.reported) out.push({ kind: 'rejected', flow: f.flow, reason: f.pending ?? 'idle_timeout', timestampNs: now });
    f.done = true;
  }

  /** Copy the segment's bytes into the flow buffer by stream offset. False when nothing was placed. */
  private place(f: FlowState, seg: TcpSegment): boolean {
    const budget = this.options.byteBudget;
    let data = seg.payload;
    // RFC 9293 §3.4: sequence numbers compare modulo 2^32; the signed 32-bit difference orders them.
    let rel = ((seg.seq >>> 0) - f.base) | 0;
    if (seg.wireLength !== undefined && seg.wireLength > data.length) f.cuts.push(rel + data.length);
    if (rel < 0) {
      if (f.baseKnown || f.cursor > 0 || f.reported) {
        // Before the stream start or before bytes already consumed: keep only what follows.
        if (-rel >= data.length) return false;
        data = data.subarray(-rel);
        rel = 0;
      } else if (-rel >= budget) {
        this.outOfWindow++;
        return false;
      } else {
        rebase(f, -rel, budget);
        rel = 0;
      }
    }
    if (rel >= budget) return true; // beyond the budget: evaluate() gives up if the hello needs it
    const end = Math.min(rel + data.length, budget);
    ensureCapacity(f, end, budget);
    // First copy wins: only fill gaps, so a conflicting retransmission cannot rewrite parsed bytes.
    const c = f.cover;
    let pos = rel;
    // cover is a flat list of [start, end) pairs (even length), so c[i] and c[i + 1] exist for even i < length.
    for (let i = 0; i < c.length && pos < end; i += 2) {
      const cs = c[i]!,
        ce = c[i + 1]!;
      if (ce <= pos) continue;
      if (cs >= end) break;
      if (cs > pos) f.buf.set(data.subarray(pos - rel, cs - rel), pos);
      pos = Math.max(pos, ce);
    }
    if (pos < end) f.buf.set(data.subarray(pos - rel, end - rel), pos);
    f.cover = addRange(c, rel, end);
    return true;
  }

  /** Frame and parse every hello the contiguous prefix now completes. */
  private evaluate(f: FlowState, now: number, out: ReassemblyOutcome[]): void {
    const budget = this.options.byteBudget;
    while (!f.done) {
      const contiguous = f.cover.length > 0 && f.cover[0] === 0 ? f.cover[1]! : 0; // pairs: a first range has its end
      const after = f.cursor > 0;
      const fr = frameClientHello(f.buf, f.cursor, contiguous, after);
      if (fr.status === 'incomplete') {
        if (fr.needed > budget) this.verdict(f, 'byte_budget', now, out);
        else if (f.cuts.includes(contiguous)) this.verdict(f, 'capture_truncated', now, out);
        return;
      }
      if (fr.status === 'rejected') {
        // RFC 8446 §4.1.4: only a HelloRetryRequest brings a second hello; anything else means the handshake moved on.
        if (after && (fr.reason === 'not_handshake' || fr.reason === 'not_client_hello')) this.finish(f);
        else this.verdict(f, fr.reason, now, out);
        return;
      }
      const res: HelloParseResult = fr.sslv2
        ? parseSslv2Hello(f.buf.subarray(f.cursor, fr.end))
        : parseMessage(handshakeMessage(f.buf, f.cursor, contiguous, after));
      if (!res.ok) {
        this.verdict(f, res.reason, now, out);
        return;
      }
      f.cursor = fr.end;
      f.pending = undefined;
      const repeat = judgeHello(f.reported, res.hello);
      f.reported = rememberHello(f.reported, res.hello);
      out.push({ kind: 'hello', flow: f.flow, hello: res.hello, repeat, timestampNs: now });
      // An SSLv2-compatible hello cannot be retried (RFC 5246 App. E.2 clients negotiate ≤ TLS 1.2).
      if (fr.sslv2 || f.reported.count >= MAX_HELLOS_PER_FLOW) this.finish(f);
    }
  }

  /**
   * A terminal verdict on the bytes at the cursor. Without a SYN the first bytes seen may not be the
   * stream's start (the first segment can arrive late), so the verdict waits for earlier bytes.
   */
  private verdict(f: FlowState, reason: SniRejection, now: number, out: ReassemblyOutcome[]): void {
    if (!f.baseKnown && f.cursor === 0 && !f.reported) {
      f.pending = reason;
      return;
    }
    if (f.reported)
      this.finish(f); // the flow's hello was already reported: a bad retry only ends it
    else this.giveUp(f, reason, now, out);
  }

  private giveUp(f: FlowState, reason: SniRejection, now: number, out: ReassemblyOutcome[]): void {
    out.push({ kind: 'rejected', flow: f.flow, reason, timestampNs: now });
    this.finish(f);
  }

  /** Keep the flow as a small tombstone; release its bytes. */
  private finish(f: FlowState): void {
    f.done = true;
    f.buf = EMPTY;
    f.cover = [];
    f.cuts = [];
  }
}

function parseMessage(msg: Uint8Array | undefined): HelloParseResult {
  return msg ? parseClientHelloMessage(msg) : { ok: false, reason: 'truncated' };
}

function newFlow(key: string, seg: TcpSegment): FlowState {
  const known = seg.isn !== undefined;
  return {
    key,
    flow: seg.flow,
    done: false,
    // RFC 9293 §3.4: the SYN occupies the ISN, so data starts at isn + 1.
    base: known ? ((seg.isn as number) + SYN_SEQ_LEN) >>> 0 : seg.seq >>> 0,
    baseKnown: known,
    isn: known ? (seg.isn as number) >>> 0 : undefined,
    buf: EMPTY,
    cover: [],
    cuts: [],
    cursor: 0,
    segments: 0,
    lastNs: seg.timestampNs,
    pending: undefined,
    reported: undefined,
  };
}

function ensureCapacity(f: FlowState, end: number, budget: number): void {
  if (f.buf.length >= end) return;
  const grown = new Uint8Array(Math.min(budget, Math.max(end, f.buf.length * 2, INITIAL_BUFFER)));
  grown.set(f.buf);
  f.buf = grown;
}

/** Earlier bytes arrived on a flow without a SYN: move everything `shift` bytes later. */
function rebase(f: FlowState, shift: number, budget: number): void {
  const c = f.cover;
  // cover is a flat list of [start, end) pairs (even length): every index below is in range.
  const oldEnd = c.length > 0 ? c[c.length - 1]! : 0;
  const newEnd = Math.min(oldEnd + shift, budget);
  ensureCapacity(f, newEnd, budget);
  if (newEnd > shift) f.buf.copyWithin(shift, 0, newEnd - shift);
  const moved: number[] = [];
  for (let i = 0; i < c.length; i += 2) {
    const s = c[i]! + shift;
    const e = Math.min(c[i + 1]! + shift, budget);
    if (s < e) moved.push(s, e);
  }
  f.cover = moved;
  f.cuts = f.cuts.map((x) => x + shift);
  f.base = (f.base - shift) >>> 0;
  f.pending = undefined;
}

/** Insert [s, e) into a sorted, merged flat range list. */
function addRange(c: number[], s: number, e: number): number[] {
  if (s >= e) return c;
  const out: number[] = [];
  let i = 0;
  // c holds [start, end) pairs (even length) and i stays even: c[i] and c[i + 1] exist while i < length.
  while (i < c.length && c[i + 1]! < s) out.push(c[i++]!, c[i++]!);
  let ns = s,
    ne = e;
  while (i < c.length && c[i]! <= ne) {
    ns = Math.min(ns, c[i]!);
    ne = Math.max(ne, c[i + 1]!);
    i += 2;
  }
  out.push(ns, ne);
  while (i < c.length) out.push(c[i++]!, c[i++]!);
  return out;
}
