import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SniDecoder } from '../../../../src/receivers/sni/decoder';
import { AF_INET, AF_INET6, SNI_DIR, SNI_FLAG_OWNER_KNOWN, SNI_FLOW_KEY, SNI_KIND, SNI_RECORD, SNI_RECORD_HLEN } from '../../../../src/receivers/sni/layout';

const F = SNI_RECORD.fields;

/** A record as the kernel writes it: header plus `payload`. */
function record(
  o: { kind?: number; family?: number; direction?: number; payload?: Uint8Array; wireLen?: number; capLen?: number; flags?: number } = {},
): Uint8Array {
  const payload = o.payload ?? new Uint8Array(0);
  const b = new Uint8Array(SNI_RECORD_HLEN + payload.length);
  const v = new DataView(b.buffer);
  v.setBigUint64(F.ts_ns, 123_000_000n, true);
  v.setBigUint64(F.cgroup_id, 77n, true);
  v.setUint32(F.pid, 4242, true);
  v.setUint32(F.ifindex, 9, true);
  v.setUint32(F.seq, 1001, true);
  v.setUint32(F.isn, 1000, true);
  v.setUint32(F.wire_len, o.wireLen ?? payload.length, true);
  v.setUint16(F.cap_len, o.capLen ?? payload.length, true);
  v.setUint16(F.sport, 40000, true);
  v.setUint16(F.dport, 443, true);
  v.setUint8(F.kind, o.kind ?? SNI_KIND.SEGMENT);
  v.setUint8(F.family, o.family ?? AF_INET);
  v.setUint8(F.direction, o.direction ?? SNI_DIR.EGRESS);
  v.setUint8(F.flags, o.flags ?? SNI_FLAG_OWNER_KNOWN);
  b.set([10, 0, 0, 1], F.saddr);
  b.set([10, 0, 0, 2], F.daddr);
  b.set(payload, F.payload);
  return b;
}

const decode = (d: SniDecoder, b: Uint8Array) => d.decode(new DataView(b.buffer), b, 0, b.length);

test('a segment record becomes a TCP segment of a flow with its owner and the flows-map key', () => {
  const d = new SniDecoder();
  const r = decode(d, record({ payload: Uint8Array.of(0x16, 3, 1), wireLen: 300 }));
  assert.ok(r && r.kind === 'segment');
  const s = r.segment;
  assert.deepEqual([s.seq, s.isn, s.wireLength, [...s.payload], s.timestampNs], [1001, 1000, 300, [0x16, 3, 1], 123_000_000]);
  assert.deepEqual(
    [s.flow.family, s.flow.srcAddress, s.flow.srcPort, s.flow.dstAddress, s.flow.dstPort, s.flow.direction, s.flow.ifindex, s.flow.pid, s.flow.cgroupId],
    [4, '10.0.0.1', 40000, '10.0.0.2', 443, 'egress', 9, 4242, 77],
  );
  assert.equal(s.flow.mapKey.length, SNI_FLOW_KEY.size);
  assert.equal(s.flow.mapKey.readUInt16LE(SNI_FLOW_KEY.fields.dport), 443);
  assert.equal(s.flow.mapKey[SNI_FLOW_KEY.fields.family], AF_INET);
  assert.equal(d.decoded, 1);
});

test('a SYN record of an IPv6 ingress flow carries no owner when the kernel did not know it', () => {
  const d = new SniDecoder();
  const b = record({ kind: SNI_KIND.SYN, family: AF_INET6, direction: SNI_DIR.INGRESS, flags: 0 });
  b.set([0xfd, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], F.daddr);
  const r = decode(d, b);
  assert.ok(r && r.kind === 'syn');
  assert.equal(r.flow.direction, 'ingress');
  assert.equal(r.flow.dstAddress, 'fd00:10::2');
  assert.equal(r.flow.pid, 0);
});

test('bad records are counted by reason and skipped, never thrown', () => {
  const d = new SniDecoder();
  assert.equal(decode(d, new Uint8Array(10)), undefined);
  assert.equal(decode(d, record({ kind: 9 })), undefined);
  assert.equal(decode(d, record({ family: 7 })), undefined);
  assert.equal(decode(d, record({ direction: 3 })), undefined);
  assert.equal(decode(d, record({ payload: Uint8Array.of(1, 2), capLen: 5 })), undefined, 'cap_len says more than the record holds');
  assert.equal(decode(d, record({ payload: Uint8Array.of(1, 2), wireLen: 1 })), undefined, 'fewer bytes on the wire than captured');
  assert.equal(decode(d, record({ kind: SNI_KIND.SYN, payload: Uint8Array.of(1) })), undefined, 'a SYN record carries no payload');
  assert.deepEqual(d.errors, { size: 1, kind: 1, family: 1, direction: 1, length: 3 });
  assert.equal(d.decodeErrors, 7);
  assert.equal(d.decoded, 0);
});
