// Real clients on loopback, captured now, and the saved fixtures they were captured into.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseClientHello } from '../../../../src/receivers/sni/client-hello';
import { SniTracker } from '../../../../src/receivers/sni/sni-tracker';
import { readFixture } from './capture';
import { BUILT_FIXTURES, REAL_FIXTURES } from './fixtures';

const FLOW = { family: 4, srcAddress: '127.0.0.1', srcPort: 0, dstAddress: '127.0.0.1', dstPort: 443, direction: 'egress' } as const;

/** Feed a client's stream to a fresh tracker in segments of `mss` bytes. */
function track(bytes: Uint8Array, mss: number) {
  const t = new SniTracker();
  const events = [];
  for (let o = 0; o < bytes.length; o += mss) {
    events.push(...t.push({ flow: FLOW, seq: 1 + o, isn: 0, payload: bytes.subarray(o, o + mss), timestampNs: o }));
  }
  return { events, stats: t.stats() };
}

for (const f of REAL_FIXTURES) {
  test(`a hello captured now from ${f.file.replace(/\.hex$/, '').replace(/-/g, ' ')} gives the expected name and ALPN`, async () => {
    const bytes = await f.capture();
    const r = parseClientHello(bytes);
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.hello.serverName, f.expect.sni);
    assert.deepEqual(r.hello.alpn, f.expect.alpn);
    const { events } = track(bytes, 536);
    assert.equal(events.length, 1);
    assert.equal(events[0].sni, f.expect.sni);
  });

  test(`the saved fixture ${f.file} still gives the expected name and ALPN`, () => {
    const r = parseClientHello(readFixture(f.file));
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.hello.serverName, f.expect.sni);
    assert.deepEqual(r.hello.alpn, f.expect.alpn);
  });
}

test('the hand-built fixture files are exactly what the builder makes', () => {
  for (const f of BUILT_FIXTURES) assert.deepEqual(readFixture(f.file), f.build(), f.file);
});
