// struct fate_key / struct fate_event bytes → FateCount / FateSample. Bad records are counted and
// skipped, never thrown.
import type { RecordBatch } from '../../kernel/ringbuf';
import { formatIPv4, formatIPv6, type NetworkType } from '../../wire/addr';
import { readCString } from '../../wire/c-string';
import { TCP_STATES, type TcpState } from '../../wire/tcp-states';
import { FATE_KIND_NAMES, type FateFields, type FateKind, type FateSample, type FateTransport } from './event';
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  FATE_COMM_LEN,
  FATE_EVENT,
  FATE_IFNAME_LEN,
  FATE_KEY,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
} from './layout';
import type { ReasonNames } from './reasons';

const K = FATE_KEY.fields;
const E = FATE_EVENT.fields;
type SharedOffsets = Readonly<Record<'reason' | 'state' | 'netns' | 'ifindex' | 'ifname' | 'pid' | 'comm' | 'cgroup_id', number>>;

export type FateDecodeFailure = 'size' | 'kind' | 'family';

function networkType(family: number): NetworkType | undefined {
  return family === AF_INET ? 'ipv4' : family === AF_INET6 ? 'ipv6' : undefined;
}

function transport(family: number, protocol: number): FateTransport | undefined {
  if (family === AF_UNIX) return 'unix';
  switch (protocol) {
    case IPPROTO_TCP:
      return 'tcp';
    case IPPROTO_UDP:
      return 'udp';
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
      return 'icmp';
    default:
      return undefined;
  }
}

function tcpState(kind: FateKind, state: number): TcpState | undefined {
  if (kind === 'drop' || state === 0 || state >= TCP_STATES.length) return undefined;
  return TCP_STATES[state];
}

export class FateDecoder {
  decoded = 0;
  readonly errors: Record<FateDecodeFailure, number> = { size: 0, kind: 0, family: 0 };

  constructor(private readonly reasons: ReasonNames) {}

  get decodeErrors(): number {
    return this.errors.size + this.errors.kind + this.errors.family;
  }

  private reason(kind: FateKind, value: number): string {
    if (kind === 'drop') return this.reasons.drop(value);
    if (kind === 'reset_sent') return this.reasons.reset(value);
    return '';
  }

  /** The fields of a fate_key at `o` (a table row), undefined when its kind is not one we know. */
  key(v: DataView, b: Uint8Array, o: number): FateFields | undefined {
    const kind = FATE_KIND_NAMES[v.getUint8(o + K.kind)];
    if (!kind) return this.fail('kind');
    const family = v.getUint16(o + K.family, true);
    return this.fields(K, kind, networkType(family), transport(family, v.getUint8(o + K.protocol)), v, b, o);
  }

  /** The key's fields, which struct fate_key and struct fate_event both carry (at their own offsets). */
  private fields(
    L: SharedOffsets,
    kind: FateKind,
    ip: NetworkType | undefined,
    proto: FateTransport | undefined,
    v: DataView,
    b: Uint8Array,
    o: number,
  ): FateFields {
    return {
      kind,
      reason: this.reason(kind, v.getUint32(o + L.reason, true)),
      networkType: ip,
      transport: proto,
      state: tcpState(kind, v.getUint8(o + L.state)),
      netns: v.getUint32(o + L.netns, true),
      ifindex: v.getUint32(o + L.ifindex, true),
      interfaceName: readCString(b, o + L.ifname, FATE_IFNAME_LEN),
      pid: v.getUint32(o + L.pid, true),
      comm: readCString(b, o + L.comm, FATE_COMM_LEN),
      cgroupId: Number(v.getBigUint64(o + L.cgroup_id, true)),
    };
  }

  decodeBatch(batch: RecordBatch, emit: (s: FateSample) => void): void {
    for (let i = 0; i < batch.count; i++) {
      const s = this.sample(batch.view, batch.bytes, batch.offsets[i]!, batch.lengths[i]!); // i < count <= their length
      if (s) emit(s);
    }
  }

  sample(v: DataView, b: Uint8Array, o: number, len: number): FateSample | undefined {
    if (len !== FATE_EVENT.size) return this.fail('size');
    const kind = FATE_KIND_NAMES[v.getUint8(o + E.kind)];
    if (!kind) return this.fail('kind');
    const family = v.getUint16(o + E.family, true);
    const ip = networkType(family);
    // Socket events are TCP, so IP: a family that is neither means a corrupt record.
    if (kind !== 'drop' && ip === undefined) return this.fail('family');
    const protocol = v.getUint8(o + E.protocol);
    this.decoded++;
    const addr = (at: number): string => (ip === 'ipv4' ? formatIPv4(b, o + at) : ip === 'ipv6' ? formatIPv6(b, o + at) : '');
    return {
      ...this.fields(E, kind, ip, transport(family, protocol), v, b, o),
      bootNs: Number(v.getBigUint64(o + E.ts_ns, true)),
      epoch: Number(v.getBigUint64(o + E.epoch, true)),
      sock: v.getBigUint64(o + E.sock, true),
      tid: v.getUint32(o + E.tid, true),
      location: v.getBigUint64(o + E.location, true),
      length: v.getUint32(o + E.len, true),
      sourceAddress: addr(E.saddr),
      sourcePort: v.getUint16(o + E.sport, true),
      destinationAddress: addr(E.daddr),
      destinationPort: v.getUint16(o + E.dport, true),
      tcpFlags: v.getUint8(o + E.tcp_flags),
    };
  }

  private fail(why: FateDecodeFailure): undefined {
    this.errors[why]++;
    return undefined;
  }
}
