// The collector goes away for two minutes while traffic flows, then comes back: every metric is
// exact again (cumulative counters), log records waited up to the bound and the excess was counted,
// the agent's memory levelled off (within twice what the held records may take, no longer
// climbing), and it said so in one warning and one recovery line. Then a collector that accepts connections and never answers: exports time out,
// one at a time, and nothing piles up.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { RunningCli } from '../helpers/cli';
import { outageConfig, rssBytes } from '../helpers/outage';
import { OtlpSink } from '../helpers/otlp-sink';
import { runTraffic, startTraffic, stopChild } from '../helpers/processes';

const OUTAGE_MS = Number(process.env.NETWATCH_OUTAGE_MS ?? 120_000);
/** Log records an exporter holds at most: the batch queue's 2048 and as many kept from failed exports. */
const HELD_RECORDS = 2 * 2048;
/**
 * What one held record may cost in the agent's resident memory: the SDK's log record with its ~30
 * attributes, body and references, plus the slack of a garbage-collected heap that grows before it
 * collects (about 5 KiB a record was measured here; the bound leaves room, not a leak).
 */
const BYTES_PER_RECORD = 8192;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function config(body: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'nw-outage-')), 'agent.yaml');
  writeFileSync(file, body);
  return file;
}

test(`the collector down for ${OUTAGE_MS / 1000} s under traffic: exact metrics after, log records held to the bound and the excess counted, one warning, one recovery line`, async () => {
  const sink = await OtlpSink.start();
  const server = await startTraffic('nwt-out-srv', 'tcp-server', ['127.0.0.1']);
  const port = server.info.port as number;
  const file = outageConfig(sink.grpcEndpoint, port);
  const agent = RunningCli.start(['run', '-c', file]);
  const opened = () => sink.sumOf('netwatch.connection.opened', { 'server.port': port, 'netwatch.connection.direction': 'outbound' });
  const records = () => sink.logs().filter((r) => r.attributes['server.port'] === port).length;
  try {
    await agent.waitFor(/running/);
    // Warm-up with the collector up: how many log records one connection makes here.
    await runTraffic('nwt-out-cli', 'tcp-clients', ['127.0.0.1', port, 20]);
    await sink.waitFor(() => opened() === 20, 10_000);
    await sleep(2500);
    const perConnection = records() / 20;
    assert.ok(Number.isInteger(perConnection) && perConnection >= 2, `log records per connection: ${records()} for 20`);
    const rssBefore = rssBytes(agent.pid);

    sink.down();
    let made = 20;
    const rss: number[] = [];
    const end = Date.now() + OUTAGE_MS;
    while (Date.now() < end) {
      await runTraffic('nwt-out-cli', 'tcp-clients', ['127.0.0.1', port, 20]);
      made += 20;
      rss.push(rssBytes(agent.pid));
      await sleep(500);
    }
    const duringOutage = made - 20;
    await sink.up();
    await sink.waitFor(() => opened() === made, 30_000);
    await agent.waitFor(/is reachable again/, 30_000);
    // Given up, counted once each: turned away before the exporter, or by it (no room to keep it, or pushed out after a failure).
    const givenUp = (metric: string) =>
      sink.sumOf(metric, { 'otel.component.name': 'otlp_grpc' }) - sink.sumOf(metric, { 'otel.component.name': 'otlp_grpc', 'error.type': undefined });
    const dropped = () => givenUp('otel.sdk.processor.log.processed') + givenUp('otel.sdk.exporter.log.exported');
    await sink
      .waitFor(() => records() + dropped() === made * perConnection, 30_000)
      .catch(() => {
        assert.fail(`${records()} records delivered and ${dropped()} dropped, ${made} connections of ${perConnection} records made ${made * perConnection}`);
      });
    await sleep(2500);

    assert.equal(opened(), made, 'every connection counted, the outage included');
    assert.ok(dropped() > 0, `the outage (${duringOutage} connections, ${duringOutage * perConnection} records) outgrew the bound of ${HELD_RECORDS}`);
    assert.ok(records() >= 2048, `at least the kept records arrived after the outage: ${records()}`);
    assert.equal(records() + dropped(), made * perConnection, 'every record either delivered or counted as dropped, none twice');
    // Memory once the queues are full: held records are bounded, so RSS levels off; a leak keeps
    // climbing with the outage. A garbage-collected heap runs ahead of what it holds until a major
    // collection (one run here: up 27 MiB, down to 13, level at 16–20; under a loaded full suite
    // the collection came later, 41 MiB), so the level may reach twice the held records' bound,
    // and from the third quarter of the outage to the last it must not climb by more than a quarter
    // of the bound (a leak of one held record's worth per record made would climb ~15 MiB there).
    const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const q = Math.floor(rss.length / 4);
    const third = median(rss.slice(2 * q, 3 * q)) - rssBefore;
    const steady = median(rss.slice(3 * q)) - rssBefore;
    const peak = Math.max(...rss) - rssBefore;
    const bound = HELD_RECORDS * BYTES_PER_RECORD;
    const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
    const shape = `RSS grew by ${mib(third)} by the third quarter, ${mib(steady)} in the last (peak ${mib(peak)}); held records' bound ${mib(bound)}`;
    assert.ok(steady <= 2 * bound, shape);
    assert.ok(steady - third <= bound / 4, `still climbing: ${shape}`);
    assert.equal(agent.output.match(/cannot reach/g)?.length, 1, agent.output);
    assert.equal(agent.output.match(/is reachable again/g)?.length, 1, agent.output);
    assert.equal(agent.output.match(/log records wait for export; the excess is dropped/g)?.length, 1, agent.output);
  } finally {
    await agent.stop('SIGTERM');
    await stopChild(server);
    await sink.stop();
  }
});

test('a collector that accepts connections and never answers: each export times out, one at a time per exporter and signal, collections in between skipped, not queued', async () => {
  // When each request of a signal arrived (ms since start): with one in flight at a time, the next
  // can only start once the previous one timed out (1 s), whatever the 200 ms interval asks for.
  const starts: Record<'metrics' | 'logs', number[]> = { metrics: [], logs: [] };
  const t0 = Date.now();
  const held: IncomingMessage[] = [];
  const hung: Server = createServer((req) => {
    starts[req.url === '/v1/logs' ? 'logs' : 'metrics'].push(Date.now() - t0);
    held.push(req); // never answered
  });
  await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
  const { port } = hung.address() as AddressInfo;
  const server = await startTraffic('nwt-hung-srv', 'tcp-server', ['127.0.0.1']);
  const file = config(`receivers:
  connections:
    seed_existing: false
exporters:
  otlphttp:
    endpoint: http://127.0.0.1:${port}
    timeout: 1s
service:
  pipelines:
    metrics:
      receivers: [connections]
      exporters: [otlphttp]
    logs:
      receivers: [connections]
      exporters: [otlphttp]
  telemetry:
    metrics:
      export_interval: 200ms
`);
  const agent = RunningCli.start(['run', '-c', file]);
  try {
    await agent.waitFor(/running/);
    for (let i = 0; i < 8; i++) {
      await runTraffic('nwt-hung-cli', 'tcp-clients', ['127.0.0.1', server.info.port as number, 10]);
      await sleep(1000);
    }
    for (const signal of ['metrics', 'logs'] as const) {
      const t = starts[signal];
      assert.ok(t.length >= 4, `${signal} exports were attempted: ${t.length}`);
      const gaps = t.slice(1).map((v, i) => v - t[i]!);
      // 1 s timeout, less a little for timer granularity.
      assert.ok(
        gaps.every((g) => g >= 950),
        `${signal}: a request started while the previous one was in flight: ${t.join(' ')}`,
      );
    }
    assert.equal(agent.output.match(/cannot reach/g)?.length, 1, agent.output);
  } finally {
    await agent.stop('SIGTERM');
    await stopChild(server);
    for (const r of held) r.socket.destroy();
    hung.close();
  }
});
