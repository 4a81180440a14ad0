// The benchmark's own pieces (test/bench) against the real kernel, so that `npm run bench` cannot
// rot unnoticed: the native pieces build, the ring generator emits exactly what it is asked to,
// both consumers read every record, and the connection storm makes exactly the connections it
// reports, as the conn probe sees them. No timing is asserted here: that is the bench's job.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RingBufferReader, type RecordBatch } from '../../src/kernel/ringbuf';
import type { ConnEvent } from '../../src/receivers/connections/event';
import { LineChild } from '../bench/children';
import { benchBin, buildNative } from '../bench/paths';
import { RINGGEN_HEAD, RINGGEN_MAGIC, Ringgen } from '../bench/ringgen';
import { freshNetns, removeNetns, storm } from '../bench/workload';
import { describeVariant, NAMED_WORKLOAD_VARIANTS, parseWorkloadVariant } from '../bench/workload-variants';
import { heldBpfObjects, stillExisting } from '../helpers/bpf-objects';
import { runConnProbe } from '../helpers/conn-probe';

const PER_HIT = 4;
const RECORD_SIZE = 40;
const H = RINGGEN_HEAD.fields;

describe("the reader benchmark's generator and consumers", () => {
  let prod: LineChild;
  let gen: Ringgen;
  let drainer: LineChild;

  before(async () => {
    buildNative(); // the C consumer, the producer, the storm and the generator object must build
    prod = LineChild.start('ringprod', benchBin('ringprod'));
    const pid = (await prod.ready).pid as number;
    gen = Ringgen.load({ targetPid: pid, ringBytes: 1 << 16, recordSize: RECORD_SIZE, recordsPerHit: PER_HIT });
    drainer = LineChild.start('ringdrain', benchBin('ringdrain'), [], { fds: [gen.ring.fd] });
    await drainer.ready;
  });
  after(async () => {
    await drainer?.stop();
    await prod?.stop();
    gen?.close();
  });

  test('each getppid() of the producer emits exactly records_per_hit intact records, which the JS reader reads in order', async () => {
    const CALLS = 100;
    const seen: { len: number; magic: number; index: number; seq: bigint }[] = [];
    const reader = new RingBufferReader(gen.ring, {
      onBatch: (b: RecordBatch) => {
        for (let i = 0; i < b.count; i++) {
          const o = b.offsets[i];
          seen.push({
            len: b.lengths[i],
            magic: b.view.getUint32(o + H.magic, true),
            index: b.view.getUint32(o + H.index, true),
            seq: b.view.getBigUint64(o + H.seq, true),
          });
        }
      },
    });
    const produced0 = gen.produced();
    const answer = await prod.request(`calls ${CALLS}`);
    assert.equal(answer.calls, CALLS);
    reader.drain();
    reader.close();
    assert.equal(seen.length, CALLS * PER_HIT);
    assert.equal(gen.produced() - produced0, CALLS * PER_HIT);
    assert.equal(gen.lost(), 0);
    assert.ok(seen.every((r) => r.len === RECORD_SIZE && r.magic === RINGGEN_MAGIC));
    assert.deepEqual(
      seen.map((r) => r.index),
      Array.from({ length: CALLS * PER_HIT }, (_, i) => i % PER_HIT),
    );
  });

  test('read live while the producer writes flat out, every record arrives whole and in order', async () => {
    const lost0 = gen.lost();
    let read = 0,
      torn = 0,
      expectIndex = 0;
    const reader = new RingBufferReader(gen.ring, {
      onBatch: (b: RecordBatch) => {
        for (let i = 0; i < b.count; i++) {
          const o = b.offsets[i];
          const index = b.view.getUint32(o + H.index, true);
          if (b.lengths[i] !== RECORD_SIZE || b.view.getUint32(o + H.magic, true) !== RINGGEN_MAGIC) torn++;
          // A dropped record shifts the sequence; without losses every burst is 0..PER_HIT-1.
          if (index !== expectIndex && gen.lost() === lost0) torn++;
          expectIndex = (index + 1) % PER_HIT;
          read++;
        }
      },
    });
    reader.start();
    const run = await prod.request('run 200');
    reader.close();
    assert.equal(torn, 0);
    assert.equal(read + gen.lost() - lost0, (run.calls as number) * PER_HIT);
  });

  test('the C consumer drains exactly what was written, and live it reads what it does not lose', async () => {
    const p = await prod.request('calls 250');
    const d = await drainer.request('drain');
    assert.equal(d.records, (p.calls as number) * PER_HIT);
    const lost0 = gen.lost();
    assert.deepEqual(await drainer.request('live'), { live: true });
    const run = await prod.request('run 100');
    const live = await drainer.request('stop');
    assert.equal((live.records as number) + gen.lost() - lost0, (run.calls as number) * PER_HIT);
  });

  test('a ring filled past its capacity keeps what fits and counts the rest as lost', async () => {
    const lost0 = gen.lost(),
      produced0 = gen.produced();
    const calls = Math.ceil((2 * gen.capacity) / PER_HIT);
    await prod.request(`calls ${calls}`);
    const d = await drainer.request('drain');
    const lost = gen.lost() - lost0;
    assert.ok(lost > 0 && (d.records as number) > 0);
    assert.equal((d.records as number) + lost, calls * PER_HIT);
    assert.equal(gen.produced() - produced0, d.records);
  });

  test('closing the generator releases its program and link', async () => {
    const other = Ringgen.load({ targetPid: prod.pid, ringBytes: 1 << 16 });
    const held = heldBpfObjects(process.pid);
    other.close();
    const after = heldBpfObjects(process.pid);
    const gone = held.progIds.filter((id) => !after.progIds.includes(id));
    assert.equal(gone.length, 1);
    assert.deepEqual(stillExisting('prog', gone), []);
  });
});

describe("the workload benchmark's connection storm", () => {
  const NETNS = 'nwbtest';
  before(() => buildNative());
  after(() => removeNetns(NETNS));

  for (const name of NAMED_WORKLOAD_VARIANTS) {
    const v = parseWorkloadVariant(name)!;
    test(`${describeVariant(v)}: every connection it reports is one connect, one accept and a close at each end in the conn probe`, async () => {
      freshNetns(NETNS, v.family);
      const run = runConnProbe({ ringBytes: 1 << 24 });
      try {
        const st = await storm(150, v, NETNS);
        assert.equal(st.failures, 0);
        assert.ok(st.connections > 0);
        assert.equal(st.ports.length, v.threads, 'a listener per thread');
        const ports = new Set(st.ports);
        const family = v.family === 6 ? 'ipv6' : 'ipv4';
        const mine = (e: ConnEvent) => e.exe === 'connstorm' && e.networkType === family && (ports.has(e.remotePort) || ports.has(e.localPort));
        const count = (ev: ConnEvent[], pred: (e: ConnEvent) => boolean) => ev.filter((e) => mine(e) && pred(e)).length;
        await run.until((ev) => count(ev, (e) => e.kind === 'close') >= 2 * st.connections, `${2 * st.connections} closes`, 20_000);
        assert.equal(run.probe.stats().lost, 0);
        const ev = run.events;
        assert.equal(
          count(ev, (e) => e.kind === 'connect' && ports.has(e.remotePort)),
          st.connections,
        );
        assert.equal(
          count(ev, (e) => e.kind === 'accept' && ports.has(e.localPort)),
          st.connections,
        );
        assert.equal(
          count(ev, (e) => e.kind === 'close' && e.direction === 'outbound'),
          st.connections,
        );
        assert.equal(
          count(ev, (e) => e.kind === 'close' && e.direction === 'inbound'),
          st.connections,
        );
      } finally {
        run.stop();
      }
    });
  }
});
