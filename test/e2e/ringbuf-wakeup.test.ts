// The reader is woken by the kernel for every record it would otherwise sit on: with no drain
// timer at all, each single record and each burst arrives, however the probes' rings submit.
// Driven by the reader benchmark's generator (test/bench/bpf/ringgen.bpf.c), which submits with
// the probes' own nw_submit (bpf/include/netwatch.h).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RingBufferReader } from '../../src/kernel/ringbuf';
import { LineChild } from '../bench/children';
import { benchBin, buildNative } from '../bench/paths';
import { Ringgen } from '../bench/ringgen';

const NO_TIMER_MS = 3_600_000;

async function until(pred: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('ring buffer wakeups (wakeup_bytes 0)', () => {
  let prod: LineChild;
  let gen: Ringgen;
  let reader: RingBufferReader;
  let seen = 0;

  before(async () => {
    buildNative();
    prod = LineChild.start('ringprod', benchBin('ringprod'));
    const pid = (await prod.ready).pid as number;
    gen = Ringgen.load({ targetPid: pid, ringBytes: 1 << 20, recordsPerHit: 1, wakeupBytes: 0 });
    reader = new RingBufferReader(gen.ring, { pollIntervalMs: NO_TIMER_MS, onBatch: (b) => (seen += b.count) });
    reader.start();
  });
  after(async () => {
    reader?.close();
    await prod?.stop();
    gen?.close();
  });

  test('a lone record after the reader went idle wakes it, every time', async () => {
    for (let i = 0; i < 50; i++) {
      const want = seen + 1;
      await prod.request('calls 1');
      await until(() => seen === want, `record ${i + 1} alone`);
      await new Promise((r) => setTimeout(r, 1)); // let the reader go back to sleep
    }
    assert.equal(gen.lost(), 0);
  });

  test('bursts arriving while the reader drains are all read, without a timer to fall back on', async () => {
    const before = seen;
    for (let i = 0; i < 20; i++) await prod.request(`calls ${100 + i * 37}`);
    const total = Array.from({ length: 20 }, (_, i) => 100 + i * 37).reduce((a, b) => a + b, 0);
    await until(() => seen === before + total, `${total} records in bursts`);
    assert.equal(gen.lost(), 0);
    assert.equal(gen.produced(), seen);
  });
});
