// An OTLP exporter's histogram_aggregation: base2_exponential_bucket_histogram gets exponential
// histograms of netwatch's own pre-aggregated tables, while another exporter of the same pipeline
// keeps explicit buckets; cumulative or delta alike.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AggregationType, InstrumentType } from '@opentelemetry/sdk-metrics';
import { METRIC } from '../../../src/catalogue/generated';
import { aggregationPreference } from '../../../src/telemetry/otlp-exporters';
import { createTelemetry } from '../../../src/telemetry/sdk';
import { OtlpSink } from '../../helpers/otlp-sink';
import { agentConfig, otlpGrpc, otlpHttp, outboundLifecycle } from './fixtures';
import { KernelCounts, withKernelCounts } from '../../helpers/kernel-counts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const RTTS_US = [12, 40, 40, 900, 30_000];

function closes(): ReturnType<typeof outboundLifecycle> {
  return RTTS_US.flatMap((srttUs) => outboundLifecycle({}).map((ev) => (ev.kind === 'close' ? { ...ev, srttUs } : ev)));
}

test('one pipeline, two exporters: exponential buckets to the one that asks, explicit to the other, the same counts', async () => {
  const explicit = await OtlpSink.start();
  const exponential = await OtlpSink.start();
  const cfg = agentConfig({
    signals: ['metrics'],
    exporters: [otlpGrpc(explicit.grpcEndpoint), otlpHttp(exponential.httpEndpoint, 'proto', { histogram_aggregation: 'base2_exponential_bucket_histogram' })],
  });
  const t = createTelemetry(cfg);
  try {
    for (const ev of withKernelCounts(closes())) t.sinkFor('metrics').consume(ev);
    await t.forceFlush();
  } finally {
    await t.shutdown();
    await explicit.stop();
    await exponential.stop();
  }
  const rttExplicit = explicit.histogram(METRIC.CONNECTION_RTT)!;
  assert.equal(rttExplicit.count, RTTS_US.length);
  assert.equal(rttExplicit.explicitBounds[0], 0.00001);
  assert.equal(exponential.histogram(METRIC.CONNECTION_RTT), undefined, 'no explicit buckets for the exponential exporter');
  const [p] = exponential.latest(METRIC.CONNECTION_RTT);
  assert.equal(p?.type, 'exponential_histogram');
  assert.equal(p.count, RTTS_US.length);
  assert.equal(p.bucketCounts.reduce((a, c) => a + c, 0) + p.zeroCount, RTTS_US.length, 'every value in a bucket');
  assert.ok(Math.abs(p.sum - RTTS_US.reduce((a, us) => a + us / 1e6, 0)) < 1e-12);
  assert.ok(p.scale <= 20 && p.bucketCounts.length <= 160);
  const lowest = 2 ** ((p.offset + 1) / 2 ** p.scale);
  assert.ok(lowest >= 12e-6 * (1 - 1e-9), 'the first bucket holds the 12 µs round trip');
  assert.ok(exponential.latest(METRIC.CONNECTION_DURATION).every((x) => x.type === 'exponential_histogram'));
});

test('delta temporality: each export carries the exponential buckets of its interval only', async () => {
  const s = await OtlpSink.start();
  const t = createTelemetry(
    agentConfig({
      signals: ['metrics'],
      intervalMs: 100,
      exporters: [otlpGrpc(s.grpcEndpoint, { temporality: 'delta', histogram_aggregation: 'base2_exponential_bucket_histogram' })],
    }),
  );
  try {
    const kernel = new KernelCounts();
    for (const ev of kernel.collect(closes())) t.sinkFor('metrics').consume(ev);
    await t.forceFlush();
    await sleep(150);
    for (const ev of kernel.collect(closes().slice(0, outboundLifecycle({}).length))) t.sinkFor('metrics').consume(ev);
    await t.forceFlush();
  } finally {
    await t.shutdown();
    await s.stop();
  }
  const points = s.pointsOf(METRIC.CONNECTION_RTT);
  assert.ok(points.every((p) => p.type === 'exponential_histogram' && p.temporality === 1));
  assert.equal(
    points.reduce((a, p) => a + p.count, 0),
    RTTS_US.length + 1,
    'the values of each interval, none twice',
  );
});

test("the SDK's own histogram instruments follow the same setting, through the exporter's aggregation preference", () => {
  assert.deepEqual(aggregationPreference('base2_exponential_bucket_histogram')(InstrumentType.HISTOGRAM), { type: AggregationType.EXPONENTIAL_HISTOGRAM });
  assert.deepEqual(aggregationPreference('base2_exponential_bucket_histogram')(InstrumentType.COUNTER), { type: AggregationType.DEFAULT });
  assert.deepEqual(aggregationPreference('explicit_bucket_histogram')(InstrumentType.HISTOGRAM), { type: AggregationType.DEFAULT });
});
