// The benchmark's pure-JS pieces: its statistics, its verdicts on targets, its pipeline corpus and
// one short pipeline run end to end — so that `npm run bench` cannot rot unnoticed. No timing is
// asserted: figures are the bench's output, not something a test can hold it to.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnDecoder } from '../../../src/receivers/connections/decoder';
import type { ConnEvent } from '../../../src/receivers/connections/event';
import { buildCorpus, corpusBatches, EVENTS_PER_CONNECTION } from '../../bench/corpus';
import { benchPipeline } from '../../bench/pipeline';
import { figures } from '../../bench/report';
import { Samples, summarize } from '../../bench/stats';

test('a figure is the median of its runs, with their min and max; an even count takes the middle two', () => {
  assert.deepEqual(summarize([5, 1, 3]), { median: 3, min: 1, max: 5, runs: [5, 1, 3] });
  assert.equal(summarize([4, 1, 3, 2]).median, 2.5);
  assert.ok(Number.isNaN(summarize([]).median));
  assert.equal(summarize([NaN, 2]).median, 2, 'a run that produced no value does not count');
});

test('a target is judged on the displayed median, and only rows with values are reported', () => {
  const s = new Samples();
  for (const v of [0.95, 0.89, 0.91]) s.add('drain.ratio', v);
  for (const v of [0, 0, 3]) s.add('batched.js.lost', v);
  const f = figures('reader', s);
  assert.deepEqual(Object.keys(f), ['drain.ratio', 'batched.js.lost']);
  assert.equal(f['drain.ratio'].median, 91);
  assert.equal(f['drain.ratio'].met, true);
  assert.equal(f['batched.js.lost'].median, 0);
  assert.equal(f['batched.js.lost'].max, 3);
  assert.equal(f['batched.js.lost'].met, true);
});

test('the pipeline corpus decodes without a single error into whole connections, each opened and closed at both ends', () => {
  const owners = [
    { pid: 10, exe: 'client', cgroupId: 0 },
    { pid: 20, exe: 'server', cgroupId: 0 },
  ];
  const c = buildCorpus({ ringBytes: 1 << 20, owners, serverPorts: 4, netns: 1, bootNs: 1e12 });
  const decoder = new ConnDecoder();
  const events: ConnEvent[] = [];
  for (const b of corpusBatches(c, 1000)) decoder.decodeBatch(b, (ev) => events.push(ev));
  assert.equal(decoder.decodeErrors, 0);
  assert.equal(events.length, c.connections * EVENTS_PER_CONNECTION);
  assert.ok(c.count * 144 <= 1 << 20, 'the records fit in the ring size asked for');
  assert.deepEqual(c.kinds, { connect: c.connections, accept: c.connections, state: 0, close: 2 * c.connections });
  const open = new Set<bigint>();
  for (const ev of events) {
    if (ev.kind === 'close') assert.ok(open.delete(ev.sock), 'a close ends a socket that was seen before');
    else open.add(ev.sock);
  }
  assert.equal(open.size, 0);
});

test("the corpus's collection counts what its records carry, and the ten transitions of each connection", () => {
  const owners = [
    { pid: 10, exe: 'client', cgroupId: 7 },
    { pid: 20, exe: 'server', cgroupId: 7 },
  ];
  const c = buildCorpus({ ringBytes: 1 << 20, owners, serverPorts: 4, netns: 1, bootNs: 1e12 });
  const events: ConnEvent[] = [];
  for (const b of corpusBatches(c, 1000)) new ConnDecoder().decodeBatch(b, (ev) => events.push(ev));
  const closes = events.filter((ev) => ev.kind === 'close');
  const total = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
  const { rows, transitions, exeName } = c.collection;
  assert.deepEqual(
    [
      total(rows.map((r) => r.opened)),
      total(rows.map((r) => r.bytesSent)),
      total(rows.map((r) => r.bytesReceived)),
      total(rows.map((r) => r.durationCount)),
      total(rows.map((r) => r.rttCount)),
      total(transitions.map((t) => t.count)),
    ],
    [
      c.kinds.connect + c.kinds.accept,
      total(closes.map((ev) => ev.bytesSent)),
      total(closes.map((ev) => ev.bytesReceived)),
      closes.length,
      closes.length,
      10 * c.connections,
    ],
  );
  assert.deepEqual(c.counted, { opened: 2 * c.connections, transitions: 10 * c.connections });
  assert.deepEqual(new Set(rows.map((r) => `${exeName(r.exeIno, r.exeDev)} ${r.cgroupId} ${r.kind}`)), new Set(['client 7 conn', 'server 7 conn']));
});

test('a short pipeline run exports exactly what it was fed to the sink', async () => {
  const s = await benchPipeline({ runs: 1, durationMs: 200, ringBytes: 1 << 18, variants: ['metrics', 'stages'] }, () => {});
  assert.deepEqual(s.summary('metrics.missing_in_metrics').runs, [0]);
  assert.ok(s.summary('metrics.events_per_s').median > 0);
  assert.ok(s.summary('stages.total_ns').median > 0);
});
