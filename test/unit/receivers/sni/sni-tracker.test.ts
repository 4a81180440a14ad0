import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FlowKey, TcpSegment } from '../../../../src/receivers/sni/reassembly';
import { SNI_REJECTIONS } from '../../../../src/receivers/sni/reassembly';
import { MAX_SNI_ATTRIBUTE_LENGTH, SNI_OTHER, SniCardinalityLimiter, SniTracker, boundSni } from '../../../../src/receivers/sni/sni-tracker';
import { readFixture } from './capture';
import { TLS12, TLS13 } from './hello-builder';

const FLOW: FlowKey = { family: 4, srcAddress: '192.0.2.1', srcPort: 50000, dstAddress: '192.0.2.2', dstPort: 8443, direction: 'ingress' };

function whole(bytes: Uint8Array, flow: FlowKey = FLOW, timestampNs = 42): TcpSegment {
  return { flow, seq: 1001, isn: 1000, payload: bytes, timestampNs };
}

test('pushing a real hello yields one event with name, ALPN, versions, flow and time', () => {
  const t = new SniTracker();
  const events = t.push(whole(readFixture('openssl-s-client-sni-and-alpn.hex')));
  assert.equal(events.length, 1);
  const e = events[0];
  assert.equal(e.sni, 'www.example.org');
  assert.deepEqual(e.alpn, ['h2', 'http/1.1']);
  assert.equal(e.versions[0], TLS13);
  assert.equal(e.ech, false);
  assert.equal(e.sslv2, false);
  assert.equal(e.changedOnRetry, false);
  assert.equal(e.timestampNs, 42);
  assert.deepEqual(e.flow, FLOW);
});

test('without supported_versions the event offers legacy_version only', () => {
  const [e] = new SniTracker().push(whole(readFixture('openssl-s-client-tls12-only-has-no-supported-versions.hex')));
  assert.deepEqual(e.versions, [TLS12]);
});

test('a hello without a name gives an event without sni', () => {
  const [e] = new SniTracker().push(whole(readFixture('node-tls-connect-to-ip-sends-no-sni.hex')));
  assert.equal('sni' in e, false);
});

test('ECH and SSLv2 hellos are reported with their flags', () => {
  const t = new SniTracker();
  const [ech] = t.push(whole(readFixture('ech-outer-hello-with-public-name.hex')));
  assert.equal(ech.ech, true);
  assert.equal(ech.sni, 'public.example.net');
  const [v2] = t.push(whole(readFixture('sslv2-compatible-hello.hex'), { ...FLOW, srcPort: 50001 }));
  assert.equal(v2.sslv2, true);
  assert.equal(v2.sni, undefined);
});

test('stats count completed hellos and each rejection reason separately', () => {
  const t = new SniTracker();
  const files = ['sni-trailing-dot.hex', 'sni-name-too-long.hex', 'sni-bad-characters.hex', 'sni-label-too-long.hex', 'curl-sni-and-alpn.hex'];
  files.forEach((f, i) => t.push(whole(readFixture(f), { ...FLOW, srcPort: 2000 + i })));
  t.push(whole(new TextEncoder().encode('SSH-2.0-OpenSSH_9.2\r\n'), { ...FLOW, srcPort: 3000 }));
  const s = t.stats();
  assert.equal(s.completed, 1);
  assert.equal(s.reported, 1);
  assert.equal(s.segments, 6);
  assert.deepEqual(Object.keys(s.rejected).sort(), [...SNI_REJECTIONS].sort());
  const nonZero = Object.fromEntries(Object.entries(s.rejected).filter(([, n]) => n > 0));
  assert.deepEqual(nonZero, { trailing_dot: 1, name_too_long: 1, bad_characters: 1, label_too_long: 1, not_handshake: 1 });
});

test('stats report evictions and idle give-ups from the bounded flow table', () => {
  const t = new SniTracker({ maxFlows: 2, idleTimeoutNs: 1000 });
  const head = readFixture('curl-sni-and-alpn.hex').subarray(0, 50);
  for (let i = 0; i < 4; i++) t.push(whole(head, { ...FLOW, srcPort: 4000 + i }, 10));
  assert.equal(t.stats().evictions, 2);
  assert.equal(t.stats().flows, 2);
  t.expire(5000);
  assert.equal(t.stats().rejected.idle_timeout, 2);
  assert.equal(t.stats().flows, 0);
});

test('boundSni keeps the first distinct names up to the limit and maps the rest to other', () => {
  const seen = new Set<string>();
  assert.equal(boundSni('a.example', 2, seen), 'a.example');
  assert.equal(boundSni('b.example', 2, seen), 'b.example');
  assert.equal(boundSni('c.example', 2, seen), SNI_OTHER);
  assert.equal(boundSni('a.example', 2, seen), 'a.example', 'an admitted name stays admitted');
  assert.equal(seen.size, 2);
});

test('boundSni cuts long values to the length bound', () => {
  const limiter = new SniCardinalityLimiter(10, 8);
  assert.equal(limiter.bound('abcdefghijkl'), 'abcdefgh');
  assert.equal(limiter.bound('abcdefghXYZ'), 'abcdefgh', 'names equal after cutting share one value');
  assert.equal(limiter.size, 1);
  assert.equal(boundSni('x'.repeat(400), 5, new Set()).length, MAX_SNI_ATTRIBUTE_LENGTH);
});

test('a limit of zero maps every name to other', () => {
  const limiter = new SniCardinalityLimiter(0);
  assert.equal(limiter.bound('a.example'), SNI_OTHER);
  assert.equal(limiter.size, 0);
});
