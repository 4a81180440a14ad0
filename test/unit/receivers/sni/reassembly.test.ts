import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  HelloReassembler,
  SNI_REJECTIONS,
  flowKeyString,
  type FlowKey,
  type ReassemblyOutcome,
  type TcpSegment,
} from '../../../../src/receivers/sni/reassembly';
import { readFixture } from './capture';
import { concat, modernHello, sniExt } from './hello-builder';

const FLOW: FlowKey = { family: 4, srcAddress: '10.0.0.1', srcPort: 40000, dstAddress: '10.0.0.2', dstPort: 443, direction: 'egress' };
const ISN = 0xfffffff0; // close to 2^32, so stream offsets wrap the sequence space
const MSS = 1448;

const flowN = (n: number): FlowKey => ({ ...FLOW, srcPort: 1024 + n });

/** Cut a stream into segments of `size` bytes starting at offset 0 (seq ISN + 1). */
function segments(bytes: Uint8Array, size: number, opts: { isn?: number | null; flow?: FlowKey; t0?: number } = {}): TcpSegment[] {
  const isn = opts.isn === undefined ? ISN : opts.isn;
  const out: TcpSegment[] = [];
  for (let o = 0, i = 0; o < bytes.length; o += size, i++) {
    out.push({
      flow: opts.flow ?? FLOW,
      seq: ((isn ?? ISN) + 1 + o) >>> 0,
      payload: bytes.subarray(o, o + size),
      ...(isn === null ? {} : { isn }),
      timestampNs: (opts.t0 ?? 1e9) + i * 1000,
    });
  }
  return out;
}

function pushAll(r: HelloReassembler, segs: TcpSegment[]): ReassemblyOutcome[] {
  const out: ReassemblyOutcome[] = [];
  for (const s of segs) r.push(s, out);
  return out;
}

function onlyHello(out: ReassemblyOutcome[]) {
  assert.equal(out.length, 1, JSON.stringify(out.map((o) => (o.kind === 'hello' ? o.hello.serverName : o.reason))));
  const o = out[0];
  assert.ok(o.kind === 'hello', JSON.stringify(o));
  return o;
}

test('a hello in one segment completes at once', () => {
  const r = new HelloReassembler();
  const o = onlyHello(pushAll(r, segments(readFixture('curl-sni-and-alpn.hex'), MSS)));
  assert.equal(o.hello.serverName, 'curl.example.com');
  assert.equal(o.repeat, 'first');
  assert.deepEqual(o.flow, FLOW);
});

test('a hello in two TCP segments completes only with the second', () => {
  const r = new HelloReassembler();
  const [a, b] = segments(readFixture('node-tls-connect-sni-and-alpn.hex'), 200);
  assert.deepEqual(r.push(a), []);
  assert.equal(onlyHello(r.push(b)).hello.serverName, 'api.example.com');
});

test('a hello in two TCP segments delivered out of order completes', () => {
  const r = new HelloReassembler();
  const [a, b] = segments(readFixture('node-tls-connect-sni-and-alpn.hex'), 200);
  assert.deepEqual(r.push(b), []);
  assert.equal(onlyHello(r.push(a)).hello.serverName, 'api.example.com');
});

test('without the SYN, a first segment that arrives late is placed before the others', () => {
  const r = new HelloReassembler();
  const [a, b, c] = segments(readFixture('large-hello-post-quantum-key-share.hex'), 600, { isn: null });
  assert.deepEqual(r.push(c), []);
  assert.deepEqual(r.push(b), []);
  assert.equal(onlyHello(r.push(a)).hello.serverName, 'pq.example.com');
});

test('a hello larger than one segment (post-quantum key share) is reassembled from MSS-sized segments', () => {
  const bytes = readFixture('large-hello-post-quantum-key-share.hex');
  const segs = segments(bytes, MSS);
  assert.equal(segs.length, 2);
  const o = onlyHello(pushAll(new HelloReassembler(), segs));
  assert.equal(o.hello.serverName, 'pq.example.com');
});

test('duplicate and overlapping segments are harmless, and the first copy of a byte wins', () => {
  const bytes = readFixture('openssl-s-client-sni-and-alpn.hex');
  const r = new HelloReassembler();
  const base = (ISN + 1) >>> 0;
  const seg = (from: number, to: number, payload = bytes.subarray(from, to)): TcpSegment => ({
    flow: FLOW,
    seq: (base + from) >>> 0,
    payload,
    isn: ISN,
    timestampNs: 1,
  });
  const name = Buffer.from(bytes).indexOf('www.example.org');
  assert.ok(name > 0);
  const out: ReassemblyOutcome[] = [];
  r.push(seg(0, 100), out);
  r.push(seg(0, 100), out); // exact duplicate
  r.push(seg(name - 5, bytes.length), out); // a later piece holding the name, leaving a hole before it
  // Fills the hole and overlaps bytes already held with different ones (the name rewritten):
  // what arrived first must stay, so the name still reads as the client sent it.
  const conflicting = bytes.slice(50, bytes.length);
  conflicting.set(new TextEncoder().encode('evl.example.org'), name - 50);
  r.push(seg(50, bytes.length, conflicting), out);
  assert.equal(onlyHello(out).hello.serverName, 'www.example.org');
});

test('a hello split across TLS records and TCP segments at unrelated places completes', () => {
  const bytes = readFixture('hello-split-across-two-records.hex');
  for (const size of [1, 3, 7, 50, 104, 105, 106]) {
    const r = new HelloReassembler({ segmentBudget: bytes.length });
    assert.equal(onlyHello(pushAll(r, segments(bytes, size))).hello.serverName, 'split.example.com', `size ${size}`);
  }
});

test('one-byte segments in reverse order still give exactly one hello', () => {
  const bytes = readFixture('curl-sni-and-alpn.hex');
  const r = new HelloReassembler({ segmentBudget: bytes.length });
  const out = pushAll(r, segments(bytes, 1).reverse());
  assert.equal(onlyHello(out).hello.serverName, 'curl.example.com');
});

test('a hello that would need more than the byte budget is given up as byte_budget before it arrives', () => {
  const r = new HelloReassembler({ byteBudget: 1024 });
  const [first] = segments(readFixture('large-hello-post-quantum-key-share.hex'), 600);
  assert.deepEqual(
    r.push(first).map((o) => o.kind === 'rejected' && o.reason),
    ['byte_budget'],
  );
});

test('more segments than the segment budget give up as segment_budget', () => {
  const r = new HelloReassembler({ segmentBudget: 4 });
  const out = pushAll(r, segments(readFixture('curl-sni-and-alpn.hex'), 10));
  assert.deepEqual(
    out.map((o) => o.kind === 'rejected' && o.reason),
    ['segment_budget'],
  );
});

test('a flow silent for longer than the idle timeout is given up as idle_timeout', () => {
  const r = new HelloReassembler({ idleTimeoutNs: 1e9 });
  const [a] = segments(readFixture('curl-sni-and-alpn.hex'), 100, { t0: 5e9 });
  assert.deepEqual(r.push(a), []);
  assert.deepEqual(r.expire(5.5e9), []);
  const out = r.expire(6.1e9);
  assert.deepEqual(
    out.map((o) => o.kind === 'rejected' && o.reason),
    ['idle_timeout'],
  );
  assert.equal(r.size, 0);
});

test('a segment cut short by the capture length, where the hello continues, gives capture_truncated', () => {
  const bytes = readFixture('large-hello-post-quantum-key-share.hex');
  const r = new HelloReassembler();
  const out = r.push({ flow: FLOW, seq: (ISN + 1) >>> 0, isn: ISN, payload: bytes.subarray(0, 256), wireLength: bytes.length, timestampNs: 1 });
  assert.deepEqual(
    out.map((o) => o.kind === 'rejected' && o.reason),
    ['capture_truncated'],
  );
});

test('a capture cut after the hello has ended does not matter', () => {
  const bytes = readFixture('curl-sni-and-alpn.hex');
  const r = new HelloReassembler();
  const out = r.push({ flow: FLOW, seq: (ISN + 1) >>> 0, isn: ISN, payload: bytes, wireLength: bytes.length + 900, timestampNs: 1 });
  assert.equal(onlyHello(out).hello.serverName, 'curl.example.com');
});

test('non-TLS bytes with the SYN seen are rejected at once as not_handshake', () => {
  const r = new HelloReassembler();
  const out = pushAll(r, segments(new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), 100));
  assert.deepEqual(
    out.map((o) => o.kind === 'rejected' && o.reason),
    ['not_handshake'],
  );
});

test('non-TLS bytes without the SYN wait for earlier bytes, then count as not_handshake when the flow expires', () => {
  const r = new HelloReassembler({ idleTimeoutNs: 1e9 });
  assert.deepEqual(pushAll(r, segments(new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n'), 100, { isn: null, t0: 1e9 })), []);
  assert.deepEqual(
    r.expire(3e9).map((o) => o.kind === 'rejected' && o.reason),
    ['not_handshake'],
  );
});

test('segments of a finished flow are ignored rather than parsed again', () => {
  const r = new HelloReassembler();
  const bytes = readFixture('curl-sni-and-alpn.hex');
  const appData = concat(bytes, Uint8Array.of(23, 3, 3, 0, 3, 1, 2, 3));
  const out = pushAll(r, segments(appData, bytes.length));
  assert.equal(onlyHello(out).hello.serverName, 'curl.example.com');
  const later: TcpSegment = { flow: FLOW, seq: (ISN + 1 + 5000) >>> 0, isn: ISN, payload: new Uint8Array(100), timestampNs: 2 };
  assert.deepEqual(r.push(later), []);
  assert.ok(r.ignoredSegments >= 1);
});

test('a new SYN on the same four-tuple starts a new flow', () => {
  const r = new HelloReassembler();
  const bytes = readFixture('curl-sni-and-alpn.hex');
  onlyHello(pushAll(r, segments(bytes, MSS)));
  const again = pushAll(r, segments(bytes, MSS, { isn: 12345 }));
  assert.equal(onlyHello(again).repeat, 'first');
});

test('the flow table is bounded: the least recently used flow is evicted and counted', () => {
  const r = new HelloReassembler({ maxFlows: 3 });
  const [head] = segments(readFixture('curl-sni-and-alpn.hex'), 100);
  for (let i = 0; i < 5; i++) r.push({ ...head, flow: flowN(i) });
  assert.equal(r.size, 3);
  assert.equal(r.evictions, 2);
  assert.equal(r.evictedIncomplete, 2);
  // Flow 2 was touched least recently among the survivors once 3 and 4 exist; touching it keeps it.
  r.push({ ...head, flow: flowN(2), seq: head.seq });
  r.push({ ...head, flow: flowN(5) });
  assert.equal(r.evictions, 3);
  const rest = readFixture('curl-sni-and-alpn.hex').subarray(100);
  const out = r.push({ ...head, flow: flowN(2), seq: (head.seq + 100) >>> 0, payload: rest });
  assert.equal(onlyHello(out).hello.serverName, 'curl.example.com');
});

test('flow keys are compact and distinguish direction, ports and namespaces', () => {
  assert.equal(flowKeyString(FLOW), 'e|10.0.0.1|40000|10.0.0.2|443');
  assert.notEqual(flowKeyString(FLOW), flowKeyString({ ...FLOW, direction: 'ingress' }));
  assert.notEqual(flowKeyString(FLOW), flowKeyString({ ...FLOW, netns: 4026531840 }));
  const v6: FlowKey = { family: 6, srcAddress: '2001:db8::1', srcPort: 1, dstAddress: '2001:db8::2', dstPort: 443, direction: 'ingress' };
  assert.equal(flowKeyString(v6), 'i|2001:db8::1|1|2001:db8::2|443');
});

test('rejection reasons of parsing and of reassembly form one enumerable list', () => {
  assert.equal(new Set(SNI_REJECTIONS).size, SNI_REJECTIONS.length);
  for (const r of ['not_handshake', 'trailing_dot', 'byte_budget', 'segment_budget', 'idle_timeout', 'capture_truncated']) {
    assert.ok((SNI_REJECTIONS as readonly string[]).includes(r), r);
  }
});

test('a hello built with a name reassembles from any 3-way split in any order', () => {
  const bytes = modernHello([sniExt('perm.example.com')]);
  const cuts = [0, 37, 121, bytes.length];
  const parts = [0, 1, 2].map((i) => ({ o: cuts[i], b: bytes.subarray(cuts[i], cuts[i + 1]) }));
  const orders = [
    [0, 1, 2],
    [0, 2, 1],
    [1, 0, 2],
    [1, 2, 0],
    [2, 0, 1],
    [2, 1, 0],
  ];
  for (const isn of [ISN, undefined]) {
    for (const order of orders) {
      const r = new HelloReassembler();
      const out: ReassemblyOutcome[] = [];
      for (const i of order) {
        r.push({ flow: FLOW, seq: (ISN + 1 + parts[i].o) >>> 0, payload: parts[i].b, ...(isn === undefined ? {} : { isn }), timestampNs: 1 }, out);
      }
      assert.equal(onlyHello(out).hello.serverName, 'perm.example.com', `order ${order} isn ${isn}`);
    }
  }
});
