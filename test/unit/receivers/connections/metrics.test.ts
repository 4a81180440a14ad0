import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { rootLogger } from '../../../../src/log';
import type { TcpState } from '../../../../src/receivers/connections/event';
import { MAX_INTERNED_KEYS } from '../../../../src/telemetry/attribute-plan';
import { connMetricPlan } from '../../../../src/receivers/connections/attributes';
import { ConnMetrics } from '../../../../src/receivers/connections/metrics';
import { ATTR, METRIC, METRICS } from '../../../../src/catalogue/generated';
import { HistogramProducer } from '../../../../src/telemetry/histogram-producer';
import type { ConnPipelineEvent } from '../../../../src/pipeline/event';
import { connEvent, receiver } from '../../telemetry/fixtures';

test('series keys are the attribute values joined, for every attribute set, past the bound on interned keys too', () => {
  const plan = connMetricPlan(METRICS[METRIC.CONNECTION_OPENED].attributes, { process_pid: true, peer_address: true, client_port: true });
  const events: ConnPipelineEvent[] = [];
  for (let i = 0; i < 3 * MAX_INTERNED_KEYS; i++) {
    events.push(
      connEvent({
        direction: i % 3 === 0 ? 'inbound' : 'outbound',
        pid: i % 7,
        localPort: 30000 + i,
        remoteAddress: `10.0.${i % 5}.1`,
        process: i % 2 ? { pid: i % 7, executableName: `app${i % 4}`, commandLine: '' } : undefined,
        container: i % 5 ? undefined : { cgroupPath: '/x', runtime: 'docker', id: `c${i % 3}` },
      }),
    );
  }
  for (let round = 0; round < 3; round++) {
    for (const ev of events) {
      const joined = plan.names
        .map((n) => {
          const v = plan.attributes(ev)[n];
          return v === undefined ? '\x1f' : `${String(v)}\x1f`;
        })
        .join('');
      assert.equal(plan.key(ev), joined);
      assert.equal(plan.key({ ...ev }), joined, 'an equal event gets an equal key');
    }
  }
});

function metrics(cardinalityLimit = 2000): ConnMetrics {
  const meter = new MeterProvider().getMeter('test');
  const producer = new HistogramProducer(resourceFromAttributes({}), { name: 'test', version: '0' });
  return new ConnMetrics(meter, producer, { receivers: [receiver()], cardinalityLimit, onOverflow: () => {}, log: rootLogger });
}

/** Open sockets per state in netwatch.connection.active (summed over series, overflow included). */
function activeByState(m: ConnMetrics): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of m.state().sums.get(METRIC.CONNECTION_ACTIVE)!.series.values()) {
    const state = String(s.attrs[ATTR.NETWORK_CONNECTION_STATE] ?? 'overflow');
    out[state] = (out[state] ?? 0) + s.value;
  }
  return out;
}

for (const limit of [2000, 4]) {
  test(`open sockets are counted once in the series of their state, many sockets sharing attributes (cardinality limit ${limit})`, () => {
    const m = metrics(limit);
    const SOCKETS = 600;
    const path: TcpState[] = ['syn_sent', 'established', 'fin_wait_1', 'fin_wait_2'];
    const base = (i: number) => ({
      sock: 0x9000n + BigInt(i) * 64n,
      remotePort: 8000 + (i % 3),
      process: { pid: 10 + (i % 2), executableName: `app${i % 2}`, commandLine: '' },
    });
    for (let i = 0; i < SOCKETS; i++) m.consume(connEvent({ ...base(i), kind: 'connect' }));
    let prev: TcpState = 'closed';
    for (const state of path) {
      for (let i = 0; i < SOCKETS; i++) m.consume(connEvent({ ...base(i), kind: 'state', oldState: prev, newState: state }));
      const got = activeByState(m);
      if (limit === 2000) assert.deepEqual(Object.fromEntries(Object.entries(got).filter(([, n]) => n !== 0)), { [state]: SOCKETS });
      else
        assert.equal(
          Object.values(got).reduce((a, b) => a + b, 0),
          SOCKETS,
          'every open socket counted once, overflow included',
        );
      prev = state;
    }
    for (let i = 0; i < SOCKETS; i++) m.consume(connEvent({ ...base(i), kind: 'close', oldState: 'fin_wait_2', newState: 'closed' }));
    assert.ok(
      Object.values(activeByState(m)).every((n) => n === 0),
      JSON.stringify(activeByState(m)),
    );
    assert.equal(m.state().sockets.size, 0);
    const opened = [...m.state().sums.get(METRIC.CONNECTION_OPENED)!.series.values()].reduce((a, s) => a + s.value, 0);
    assert.equal(opened, SOCKETS);
  });
}

test("an accepted socket moves from its unattributed series to its owner's, keeping one count", () => {
  const m = metrics();
  const sock = 0xabc0n;
  m.consume(
    connEvent({
      sock,
      kind: 'state',
      direction: 'inbound',
      pid: 0,
      comm: '',
      process: undefined,
      localPort: 8080,
      remotePort: 40000,
      oldState: 'listen',
      newState: 'syn_received',
    }),
  );
  m.consume(
    connEvent({
      sock,
      kind: 'accept',
      direction: 'inbound',
      localPort: 8080,
      remotePort: 40000,
      newState: 'established',
      process: { pid: 7, executableName: 'nginx', commandLine: '' },
    }),
  );
  const series = [...m.state().sums.get(METRIC.CONNECTION_ACTIVE)!.series.values()].filter((s) => s.value !== 0);
  assert.equal(series.length, 1);
  assert.equal(series[0].value, 1);
  assert.equal(series[0].attrs[ATTR.PROCESS_EXECUTABLE_NAME], 'nginx');
  assert.equal(series[0].attrs[ATTR.NETWORK_CONNECTION_STATE], 'established');
});

test("the RTT histogram has the receiver's rtt_buckets_us as boundaries, in seconds; a reload with others starts it afresh", () => {
  const meter = new MeterProvider().getMeter('test');
  const producer = new HistogramProducer(resourceFromAttributes({}), { name: 'test', version: '0' });
  const build = (rtt_buckets_us: number[], carry?: ReturnType<ConnMetrics['state']>) =>
    new ConnMetrics(meter, producer, { receivers: [receiver({ rtt_buckets_us })], carry, cardinalityLimit: 2000, onOverflow: () => {}, log: rootLogger });
  const close = connEvent({ kind: 'close', oldState: 'fin_wait_2', newState: 'closed', srttUs: 30, durationNs: 1e6 });
  const first = build([10, 100, 1000]);
  first.consume(close);
  const rtt = first.state().histograms.get(METRIC.CONNECTION_RTT)!;
  assert.deepEqual(rtt.boundaries, [0.00001, 0.0001, 0.001]);
  assert.deepEqual([...rtt.series.values()][0]!.counts, [0, 1, 0, 0], '30 µs falls in (10 µs, 100 µs]');
  assert.equal(build([10, 100, 1000], first.state()).state().histograms.get(METRIC.CONNECTION_RTT), rtt, 'the same boundaries: the counts carry over');
  const other = build([50, 500], first.state()).state().histograms.get(METRIC.CONNECTION_RTT)!;
  assert.notEqual(other, rtt, 'other boundaries: a new histogram (its series get a new start time)');
  assert.deepEqual(other.boundaries, [0.00005, 0.0005]);
  assert.equal(first.state().histograms.get(METRIC.CONNECTION_DURATION)!.boundaries, METRICS[METRIC.CONNECTION_DURATION].buckets);
});

test('the default RTT boundaries start at 10 µs', () => {
  assert.equal(receiver().rtt_buckets_us[0], 10);
  assert.equal(METRICS[METRIC.CONNECTION_RTT].buckets?.[0], 0.00001);
});
