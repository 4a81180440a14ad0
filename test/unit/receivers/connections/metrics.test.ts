import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { rootLogger } from '../../../../src/log';
import type { ConnCounts } from '../../../../src/receivers/connections/event';
import { MAX_INTERNED_KEYS } from '../../../../src/telemetry/attribute-plan';
import { connMetricPlan } from '../../../../src/receivers/connections/attributes';
import { ConnMetrics } from '../../../../src/receivers/connections/metrics';
import { ATTR, METRIC, METRICS, type MetricName } from '../../../../src/catalogue/generated';
import { HistogramProducer } from '../../../../src/telemetry/histogram-producer';
import type { ConnPipelineEvent } from '../../../../src/pipeline/event';
import { connEvent, receiver } from '../../telemetry/fixtures';
import { withKernelCounts } from '../../../helpers/kernel-counts';
import { NO_COUNTS as NONE } from '../../../../src/receivers/connections/count-events';

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
    if (s.value === 0) continue;
    const state = String(s.attrs[ATTR.NETWORK_CONNECTION_STATE] ?? 'overflow');
    out[state] = (out[state] ?? 0) + s.value;
  }
  return out;
}

/** A counter row as the receiver hands it on (see receiver.ts): kind `count`, what it counts in `counts`. */
function row(counts: Partial<ConnCounts> & Pick<ConnCounts, 'row'>, ev: Partial<ConnPipelineEvent> = {}): ConnPipelineEvent {
  return connEvent({ kind: 'count', sock: 0n, pid: 0, ...ev, counts: { ...NONE, ...counts } });
}
const begin = (): ConnPipelineEvent => row({ row: 'begin' });
const nginx = { process: { pid: 0, executableName: 'nginx', commandLine: '' } };
const curl = { process: { pid: 0, executableName: 'curl', commandLine: '' } };

function sum(m: ConnMetrics, metric: MetricName): number {
  return [...m.state().sums.get(metric)!.series.values()].reduce((a, s) => a + s.value, 0);
}

/** Bytes of netwatch.connection.io one way. */
function io(m: ConnMetrics, direction: 'transmit' | 'receive'): number {
  return [...m.state().sums.get(METRIC.CONNECTION_IO)!.series.values()]
    .filter((s) => s.attrs[ATTR.NETWORK_IO_DIRECTION] === direction)
    .reduce((a, s) => a + s.value, 0);
}

test('counter rows add to the metrics they carry, under their own attributes', () => {
  const m = metrics();
  m.consume(begin());
  m.consume(row({ row: 'conn', opened: 3, bytesSent: 1000, bytesReceived: 20 }, { ...curl, remotePort: 443 }));
  m.consume(row({ row: 'conn', opened: 2, bytesSent: 5 }, { ...nginx, direction: 'inbound', localPort: 8080 }));
  m.consume(row({ row: 'failed', failed: 4 }, { ...curl, error: 111, remotePort: 9 }));
  m.consume(begin());
  m.consume(row({ row: 'conn', opened: 1, bytesReceived: 1 }, { ...curl, remotePort: 443 }));
  assert.equal(sum(m, METRIC.CONNECTION_OPENED), 6);
  assert.equal(io(m, 'transmit'), 1005);
  assert.equal(io(m, 'receive'), 21);
  const failed = [...m.state().sums.get(METRIC.CONNECTION_FAILED)!.series.values()];
  assert.deepEqual(
    failed.map((s) => [s.attrs[ATTR.ERROR_TYPE], s.attrs[ATTR.SERVER_PORT], s.value]),
    [['ECONNREFUSED', 9, 4]],
  );
  const opened = new Map([...m.state().sums.get(METRIC.CONNECTION_OPENED)!.series.values()].map((s) => [String(s.attrs[ATTR.PROCESS_EXECUTABLE_NAME]), s]));
  assert.equal(opened.get('curl')!.value, 4);
  assert.equal(opened.get('curl')!.attrs[ATTR.SERVER_PORT], 443);
  assert.equal(opened.get('nginx')!.attrs[ATTR.SERVER_PORT], 8080);
});

test('open sockets are what the latest collection counted: a new collection replaces the last one', () => {
  const m = metrics();
  m.consume(begin());
  m.consume(row({ row: 'active', active: 5 }, { ...nginx, direction: 'inbound', localPort: 80, newState: 'established' }));
  m.consume(row({ row: 'active', active: 2 }, { ...nginx, direction: 'inbound', localPort: 80, newState: 'close_wait' }));
  assert.deepEqual(activeByState(m), { established: 5, close_wait: 2 });
  m.consume(begin());
  m.consume(row({ row: 'active', active: 1 }, { ...nginx, direction: 'inbound', localPort: 80, newState: 'established' }));
  assert.deepEqual(activeByState(m), { established: 1 });
  m.consume(begin());
  assert.deepEqual(activeByState(m), {}, 'a collection with no open sockets leaves none');
});

test('kernel histograms merge bucket by bucket, with their sum and count, and report no min or max', () => {
  const m = metrics();
  const bounds = METRICS[METRIC.CONNECTION_DURATION].buckets!;
  const buckets = bounds.map(() => 0).concat(0);
  buckets[0] = 2;
  buckets[bounds.length] = 1;
  m.consume(row({ row: 'conn', duration: { buckets, sum: 4000.001, count: 3 } }, curl));
  m.consume(row({ row: 'conn', duration: { buckets, sum: 4000.001, count: 3 } }, curl));
  const [series, ...rest] = [...m.state().histograms.get(METRIC.CONNECTION_DURATION)!.series.values()];
  assert.equal(rest.length, 0);
  assert.equal(series.count, 6);
  assert.equal(series.sum, 8000.002);
  assert.equal(series.counts[0], 4);
  assert.equal(series.counts[bounds.length], 2);
  assert.equal(series.preAggregated, true);
  assert.throws(() => m.consume(row({ row: 'conn', duration: { buckets: [1], sum: 1, count: 1 } }, nginx)), /1 buckets merged into/);
});

test('transitions count by the state left and the state entered', () => {
  const m = metrics();
  m.consume(row({ row: 'transitions', transitions: 7 }, { oldState: 'syn_sent', newState: 'established' }));
  m.consume(row({ row: 'transitions', transitions: 3 }, { oldState: 'syn_sent', newState: 'established' }));
  const series = [...m.state().sums.get(METRIC.CONNECTION_STATE_TRANSITIONS)!.series.values()];
  assert.deepEqual(
    series.map((s) => [s.attrs[ATTR.CONNECTION_PREVIOUS_STATE], s.attrs[ATTR.NETWORK_CONNECTION_STATE], s.value]),
    [['syn_sent', 'established', 10]],
  );
});

test("rows the kernel's full table could not give attributes to are counted in the overflow series", () => {
  const m = metrics();
  m.consume(begin());
  m.consume(row({ row: 'overflow', opened: 9, active: 4, bytesSent: 100 }));
  const overflowed = (metric: MetricName) => [...m.state().sums.get(metric)!.series.values()].filter((s) => s.attrs['otel.metric.overflow'] === true);
  assert.equal(overflowed(METRIC.CONNECTION_OPENED)[0]!.value, 9);
  assert.deepEqual(
    overflowed(METRIC.CONNECTION_IO).map((x) => [x.attrs[ATTR.NETWORK_IO_DIRECTION], x.value]),
    [['transmit', 100]],
  );
  assert.equal(overflowed(METRIC.CONNECTION_ACTIVE)[0]!.value, 4);
  m.consume(begin());
  assert.equal(overflowed(METRIC.CONNECTION_ACTIVE)[0]!.value, 0, 'open sockets in overflow are replaced by the next collection too');
});

test('records (connect, accept, close) are not counted: the kernel counts, records feed logs', () => {
  const m = metrics();
  m.consume(connEvent({ kind: 'connect' }));
  m.consume(connEvent({ kind: 'close', oldState: 'fin_wait_2', newState: 'closed', bytesSent: 10 }));
  assert.equal(sum(m, METRIC.CONNECTION_OPENED), 0);
  assert.equal(sum(m, METRIC.CONNECTION_IO), 0);
});

test("the RTT histogram has the receiver's rtt_buckets_us as boundaries, in seconds; a reload with others starts it afresh", () => {
  const meter = new MeterProvider().getMeter('test');
  const producer = new HistogramProducer(resourceFromAttributes({}), { name: 'test', version: '0' });
  const build = (rtt_buckets_us: number[], carry?: ReturnType<ConnMetrics['state']>) =>
    new ConnMetrics(meter, producer, { receivers: [receiver({ rtt_buckets_us })], carry, cardinalityLimit: 2000, onOverflow: () => {}, log: rootLogger });
  const close = connEvent({ kind: 'close', oldState: 'fin_wait_2', newState: 'closed', srttUs: 30, durationNs: 1e6 });
  const first = build([10, 100, 1000]);
  for (const ev of withKernelCounts([close], { rttBoundsS: [0.00001, 0.0001, 0.001] })) first.consume(ev);
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
