import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseClientHello } from '../../../../src/receivers/sni/client-hello';
import { MAX_HELLOS_PER_FLOW, judgeHello, rememberHello } from '../../../../src/receivers/sni/dedupe';
import type { FlowKey, TcpSegment } from '../../../../src/receivers/sni/reassembly';
import { SniTracker, type SniEvent } from '../../../../src/receivers/sni/sni-tracker';
import { readFixture } from './capture';
import { retriedFlight } from './fixtures';
import { concat, modernHello, sniExt } from './hello-builder';

const FLOW: FlowKey = { family: 6, srcAddress: '2001:db8::10', srcPort: 51000, dstAddress: '2001:db8::20', dstPort: 443, direction: 'egress' };
const ISN = 777;

/** The client's stream as segments of `size` bytes, the i-th at time t0 + i ms. */
function stream(bytes: Uint8Array, size: number, from = 0, t0 = 1e9): TcpSegment[] {
  const out: TcpSegment[] = [];
  for (let o = 0; o < bytes.length; o += size) {
    out.push({ flow: FLOW, seq: ISN + 1 + from + o, isn: ISN, payload: bytes.subarray(o, o + size), timestampNs: t0 + o * 1e3 });
  }
  return out;
}

function run(t: SniTracker, segs: TcpSegment[]): SniEvent[] {
  return segs.flatMap((s) => t.push(s));
}

test('a real client retrying after a HelloRetryRequest is reported once', () => {
  const bytes = readFixture('node-hello-retry-request-client-stream.hex');
  const t = new SniTracker();
  const events = run(t, stream(bytes, 1448));
  assert.equal(events.length, 1);
  assert.equal(events[0].sni, 'retry.example.com');
  const s = t.stats();
  assert.equal(s.completed, 2, 'both hellos were parsed');
  assert.equal(s.retriesSuppressed, 1);
  assert.equal(s.reported, 1);
});

test('the retried hello is recognised also when the stream arrives in small, shuffled segments', () => {
  const bytes = readFixture('node-hello-retry-request-client-stream.hex');
  const segs = stream(bytes, 97);
  // Swap neighbours: every segment arrives one step out of order.
  for (let i = 0; i + 1 < segs.length; i += 2) [segs[i], segs[i + 1]] = [segs[i + 1], segs[i]];
  const t = new SniTracker();
  const events = run(t, segs);
  assert.deepEqual(
    events.map((e) => e.sni),
    ['retry.example.com'],
  );
  assert.equal(t.stats().retriesSuppressed, 1);
});

test('a second hello with the same name in a later segment of the flow is not reported again', () => {
  const first = modernHello([sniExt('hrr.example.com')]);
  const t = new SniTracker();
  assert.equal(run(t, stream(first, 1448)).length, 1);
  const second = retriedFlight('hrr.example.com');
  assert.deepEqual(run(t, stream(second, 1448, first.length, 2e9)), []);
  assert.equal(t.stats().retriesSuppressed, 1);
});

test('a second hello naming a different server is reported again and marked', () => {
  const first = modernHello([sniExt('one.example.com')]);
  const t = new SniTracker();
  run(t, stream(first, 1448));
  const events = run(t, stream(retriedFlight('two.example.com'), 1448, first.length, 2e9));
  assert.equal(events.length, 1);
  assert.equal(events[0].sni, 'two.example.com');
  assert.equal(events[0].changedOnRetry, true);
  assert.equal(t.stats().retriesChanged, 1);
});

test('after two hellos the flow is finished and a third is ignored', () => {
  const first = modernHello([sniExt('three.example.com')]);
  const second = retriedFlight('three.example.com');
  const third = retriedFlight('other.example.com');
  const t = new SniTracker();
  const all = concat(first, second, third);
  const events = run(t, stream(all, 1448));
  assert.equal(events.length, 1);
  assert.equal(t.stats().completed, MAX_HELLOS_PER_FLOW);
});

test('application data after the hello ends the flow without a rejection', () => {
  const first = modernHello([sniExt('done.example.com')]);
  const t = new SniTracker();
  run(t, stream(concat(first, Uint8Array.of(20, 3, 3, 0, 1, 1, 23, 3, 3, 0, 2, 9, 9)), 1448));
  const s = t.stats();
  assert.equal(s.reported, 1);
  assert.equal(
    Object.values(s.rejected).reduce((a, b) => a + b, 0),
    0,
  );
});

test('judging a hello: first, then retry with the same name, changed with another or with ECH toggled', () => {
  const a = parseClientHello(modernHello([sniExt('a.example')]));
  const b = parseClientHello(modernHello([sniExt('b.example')]));
  assert.ok(a.ok && b.ok);
  assert.equal(judgeHello(undefined, a.hello), 'first');
  const memo = rememberHello(undefined, a.hello);
  assert.equal(memo.count, 1);
  assert.equal(judgeHello(memo, a.hello), 'retry');
  assert.equal(judgeHello(memo, b.hello), 'changed');
  assert.equal(judgeHello(memo, { ...a.hello, ech: true }), 'changed');
  assert.equal(rememberHello(memo, a.hello).count, 2);
});
