// struct sni_record bytes → a SYN or a captured segment. Bad records are counted and skipped, never thrown.
import type { RecordBatch } from '../../kernel/ringbuf';
import { formatIPv4, formatIPv6 } from '../../wire/addr';
import type { FlowKey, TcpSegment } from './reassembly';
import { AF_INET, AF_INET6, SNI_CHUNK_LEN, SNI_DIR, SNI_FLAG_OWNER_KNOWN, SNI_FLOW_KEY, SNI_KIND, SNI_RECORD, SNI_RECORD_HLEN } from './layout';

const F = SNI_RECORD.fields;
/** saddr and daddr are 16 bytes each: an IPv6 address, or an IPv4 one in the first 4 (sni.h). */
const ADDR_LEN = 16;

/** A flow as the kernel saw it: the reassembly key plus where it was seen and who owns it. */
export interface SniFlow extends FlowKey {
  ifindex: number;
  /** Owner of the local (client) socket, egress only; 0 / '' when unknown. */
  pid: number;
  cgroupId: number;
  /** The flows map key (struct sni_flow_key), to tell the kernel the flow is finished. */
  mapKey: Buffer;
}

export type SniRecord = { kind: 'syn'; flow: SniFlow; bootNs: number } | { kind: 'segment'; segment: TcpSegment & { flow: SniFlow } };

export type SniDecodeFailure = 'size' | 'kind' | 'family' | 'direction' | 'length';

export class SniDecoder {
  decoded = 0;
  readonly errors: Record<SniDecodeFailure, number> = { size: 0, kind: 0, family: 0, direction: 0, length: 0 };

  get decodeErrors(): number {
    const e = this.errors;
    return e.size + e.kind + e.family + e.direction + e.length;
  }

  /** Decode every record of a batch; `emit` must consume a segment's payload before returning (it views the ring). */
  decodeBatch(batch: RecordBatch, emit: (r: SniRecord) => void): void {
    for (let i = 0; i < batch.count; i++) {
      const r = this.decode(batch.view, batch.bytes, batch.offsets[i]!, batch.lengths[i]!); // i < count <= their length
      if (r) emit(r);
    }
  }

  decode(v: DataView, b: Uint8Array, o: number, len: number): SniRecord | undefined {
    if (len < SNI_RECORD_HLEN) return this.fail('size');
    const kind = v.getUint8(o + F.kind);
    if (kind !== SNI_KIND.SYN && kind !== SNI_KIND.SEGMENT) return this.fail('kind');
    const family = v.getUint8(o + F.family);
    if (family !== AF_INET && family !== AF_INET6) return this.fail('family');
    const dir = v.getUint8(o + F.direction);
    if (dir !== SNI_DIR.INGRESS && dir !== SNI_DIR.EGRESS) return this.fail('direction');
    const capLen = v.getUint16(o + F.cap_len, true);
    const wireLen = v.getUint32(o + F.wire_len, true);
    if (len !== SNI_RECORD_HLEN + capLen || capLen > SNI_CHUNK_LEN || wireLen < capLen || (kind === SNI_KIND.SYN && capLen !== 0)) return this.fail('length');
    const v4 = family === AF_INET;
    const flags = v.getUint8(o + F.flags);
    const flow: SniFlow = {
      family: v4 ? 4 : 6,
      srcAddress: v4 ? formatIPv4(b, o + F.saddr) : formatIPv6(b, o + F.saddr),
      srcPort: v.getUint16(o + F.sport, true),
      dstAddress: v4 ? formatIPv4(b, o + F.daddr) : formatIPv6(b, o + F.daddr),
      dstPort: v.getUint16(o + F.dport, true),
      direction: dir === SNI_DIR.EGRESS ? 'egress' : 'ingress',
      ifindex: v.getUint32(o + F.ifindex, true),
      pid: flags & SNI_FLAG_OWNER_KNOWN ? v.getUint32(o + F.pid, true) : 0,
      cgroupId: Number(v.getBigUint64(o + F.cgroup_id, true)),
      mapKey: flowMapKey(b, o, family),
    };
    const bootNs = Number(v.getBigUint64(o + F.ts_ns, true));
    this.decoded++;
    if (kind === SNI_KIND.SYN) return { kind: 'syn', flow, bootNs };
    return {
      kind: 'segment',
      segment: {
        flow,
        seq: v.getUint32(o + F.seq, true),
        isn: v.getUint32(o + F.isn, true),
        payload: b.subarray(o + F.payload, o + F.payload + capLen),
        wireLength: wireLen,
        timestampNs: bootNs,
      },
    };
  }

  private fail(why: SniDecodeFailure): undefined {
    this.errors[why]++;
    return undefined;
  }
}

/** struct sni_flow_key from a record's addresses, ports and family. */
function flowMapKey(b: Uint8Array, o: number, family: number): Buffer {
  const k = Buffer.alloc(SNI_FLOW_KEY.size);
  k.set(b.subarray(o + F.saddr, o + F.saddr + ADDR_LEN), SNI_FLOW_KEY.fields.saddr);
  k.set(b.subarray(o + F.daddr, o + F.daddr + ADDR_LEN), SNI_FLOW_KEY.fields.daddr);
  // Inside the record, whose length decode() checked.
  k.writeUInt16LE((b[o + F.sport + 1]! << 8) | b[o + F.sport]!, SNI_FLOW_KEY.fields.sport);
  k.writeUInt16LE((b[o + F.dport + 1]! << 8) | b[o + F.dport]!, SNI_FLOW_KEY.fields.dport);
  k.writeUInt8(family, SNI_FLOW_KEY.fields.family);
  return k;
}
