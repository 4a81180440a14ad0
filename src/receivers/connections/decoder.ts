// struct conn_event bytes → ConnEvent. Bad records are counted and skipped, never thrown.
import type { RecordBatch } from '../../kernel/ringbuf';
import { formatIPv4, formatIPv6 } from '../../wire/addr';
import type { ConnEvent, ConnEventKind, Direction, TcpState } from './event';
import { TCP_STATES } from '../../wire/tcp-states';
import { AF_INET, AF_INET6, CONN_DIR, CONN_EVENT, CONN_KIND, CONN_OWNER, IPPROTO_TCP, IPPROTO_UDP } from './layout';
import { RawStringCache } from '../../wire/raw-strings';

const F = CONN_EVENT.fields;
const O = CONN_OWNER.fields;

/** (inode, device) of an executable → its file name ('' when unknown); the probe reads the kernel's table. */
export type ExeNameOf = (ino: number, dev: number) => string;
const KINDS: (ConnEventKind | undefined)[] = [];
KINDS[CONN_KIND.CONNECT] = 'connect';
KINDS[CONN_KIND.ACCEPT] = 'accept';
KINDS[CONN_KIND.STATE] = 'state';
KINDS[CONN_KIND.CLOSE] = 'close';
const DIRS: Direction[] = [];
DIRS[CONN_DIR.UNKNOWN] = 'unknown';
DIRS[CONN_DIR.OUTBOUND] = 'outbound';
DIRS[CONN_DIR.INBOUND] = 'inbound';

export type DecodeFailure = 'size' | 'kind' | 'family' | 'protocol' | 'state';

/** A u64 field as a number without a BigInt: exact below 2^53, and rounded as Number(bigint) above. */
function u64(v: DataView, at: number): number {
  return v.getUint32(at, true) + v.getUint32(at + 4, true) * 4294967296;
}

export class ConnDecoder {
  decoded = 0;
  // Addresses repeat from event to event: decode each distinct one once.
  private readonly ipv4 = new RawStringCache();
  private readonly ipv6 = new RawStringCache();
  readonly errors: Record<DecodeFailure, number> = { size: 0, kind: 0, family: 0, protocol: 0, state: 0 };

  constructor(private readonly exeName: ExeNameOf = () => '') {}

  get decodeErrors(): number {
    const e = this.errors;
    return e.size + e.kind + e.family + e.protocol + e.state;
  }

  /** Decode every record of a batch, calling emit for each good one. */
  decodeBatch(batch: RecordBatch, emit: (ev: ConnEvent) => void): void {
    for (let i = 0; i < batch.count; i++) {
      const ev = this.decode(batch.view, batch.bytes, batch.offsets[i]!, batch.lengths[i]!); // i < count <= their length
      if (ev) emit(ev);
    }
  }

  decode(v: DataView, b: Uint8Array, o: number, len: number): ConnEvent | undefined {
    if (len !== CONN_EVENT.size) return this.fail('size');
    const kind = KINDS[v.getUint8(o + F.kind)];
    if (!kind) return this.fail('kind');
    const family = v.getUint16(o + F.family, true);
    if (family !== AF_INET && family !== AF_INET6) return this.fail('family');
    const proto = v.getUint8(o + F.protocol);
    if (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) return this.fail('protocol');
    const oldS = v.getUint8(o + F.oldstate);
    const newS = v.getUint8(o + F.newstate);
    if (oldS >= TCP_STATES.length || newS >= TCP_STATES.length) return this.fail('state');
    const v4 = family === AF_INET;
    this.decoded++;
    return {
      kind,
      bootNs: u64(v, o + F.ts_ns),
      sock: v.getBigUint64(o + F.sock, true),
      pid: v.getUint32(o + F.owner + O.tgid, true),
      tid: v.getUint32(o + F.owner + O.tid, true),
      exe: this.exeName(u64(v, o + F.owner + O.exe_ino), v.getUint32(o + F.owner + O.exe_dev, true)),
      cgroupId: u64(v, o + F.owner + O.cgroup_id),
      netns: v.getUint32(o + F.netns, true),
      transport: proto === IPPROTO_TCP ? 'tcp' : 'udp',
      networkType: v4 ? 'ipv4' : 'ipv6',
      direction: DIRS[v.getUint8(o + F.direction)] ?? 'unknown',
      localAddress: v4 ? this.addr4(v, b, o + F.laddr) : this.addr6(v, b, o + F.laddr),
      localPort: v.getUint16(o + F.lport, true),
      remoteAddress: v4 ? this.addr4(v, b, o + F.raddr) : this.addr6(v, b, o + F.raddr),
      remotePort: v.getUint16(o + F.rport, true),
      oldState: TCP_STATES[oldS] as TcpState,
      newState: TCP_STATES[newS] as TcpState,
      bytesSent: u64(v, o + F.bytes_sent),
      bytesReceived: u64(v, o + F.bytes_received),
      srttUs: v.getUint32(o + F.srtt_us, true),
      retransmits: v.getUint32(o + F.retransmits, true),
      durationNs: u64(v, o + F.duration_ns),
      error: v.getInt32(o + F.error, true),
      counts: undefined,
    };
  }

  private addr4(v: DataView, b: Uint8Array, at: number): string {
    const w = v.getInt32(at, true);
    return this.ipv4.get(w, 0, 0, 0) ?? this.ipv4.set(w, 0, 0, 0, formatIPv4(b, at));
  }

  private addr6(v: DataView, b: Uint8Array, at: number): string {
    const w0 = v.getInt32(at, true),
      w1 = v.getInt32(at + 4, true),
      w2 = v.getInt32(at + 8, true),
      w3 = v.getInt32(at + 12, true);
    return this.ipv6.get(w0, w1, w2, w3) ?? this.ipv6.set(w0, w1, w2, w3, formatIPv6(b, at));
  }

  private fail(why: DecodeFailure): undefined {
    this.errors[why]++;
    return undefined;
  }
}
