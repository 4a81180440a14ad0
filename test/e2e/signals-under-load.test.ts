// Signals while connections pour in: SIGTERM in the middle of a storm still exports every count
// the kernel made (and a record of each connection), and SIGHUP reloads under load neither lose
// nor double a connection.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { RunningCli } from '../helpers/cli';
import { OtlpSink } from '../helpers/otlp-sink';
import { runTraffic, startTraffic, stopChild } from '../helpers/processes';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function writeConfig(file: string, endpoint: string, interval: string, opens = false): void {
  // `opens`: each connect and accept also becomes a log record, and nothing else does.
  const logs = opens
    ? `    logs:
      max_per_second: 0
    events:
      netwatch.connection.close: { enabled: false }
      netwatch.connection.failure: { enabled: false }
`
    : '';
  const logsPipeline = opens
    ? `    logs:
      receivers: [connections]
      exporters: [otlp]
`
    : '';
  writeFileSync(
    file,
    `receivers:
  connections:
    seed_existing: false
    ring_buffer_size: 33554432
    interval: 500ms
${logs}exporters:
  otlp:
    endpoint: http://${endpoint}
service:
  pipelines:
    metrics:
      receivers: [connections]
      exporters: [otlp]
${logsPipeline}  telemetry:
    metrics:
      export_interval: ${interval}
`,
  );
}

test('SIGTERM in the middle of a connection storm: the final export holds every count the kernel made, and a record of each', async () => {
  const sink = await OtlpSink.start();
  const server = await startTraffic('nwt-st-srv', 'tcp-server', ['127.0.0.1']);
  const file = join(mkdtempSync(join(tmpdir(), 'nw-sig-')), 'agent.yaml');
  // Nothing is exported before the signal: the last export is the only one.
  writeConfig(file, sink.grpcEndpoint, '1h', true);
  const agent = RunningCli.start(['run', '-c', file]);
  const storm = [1, 2, 3].map(() => runTraffic('nwt-st-cli', 'tcp-clients', ['127.0.0.1', server.info.port as number, 3000]));
  try {
    await agent.waitFor(/running/);
    await sleep(700);
    assert.equal(await agent.stop('SIGTERM'), 0, agent.output);
    const probe = { 'netwatch.probe': 'connections' };
    const read = sink.sumOf('netwatch.agent.events.read', probe);
    assert.ok(read > 1000, `the storm was under way: ${read} records read`);
    assert.equal(sink.sumOf('netwatch.agent.events.decode_errors', probe), 0);
    assert.equal(sink.sumOf('netwatch.agent.events.lost', probe), 0, 'the 32 MiB ring kept every record');
    // The kernel counted each connect and accept once; the ring carried an open record of each. At
    // stop the probe detaches before it reads both, so the two agree exactly: every open record is
    // delivered, or counted as given up by the log pipeline (its queue is bounded).
    const opened = sink.sumOf('netwatch.connection.opened');
    const records = sink.logs().filter((r) => r.eventName === 'netwatch.connection.open' || r.eventName === 'netwatch.connection.accept').length;
    const givenUp = (metric: string) => sink.sumOf(metric) - sink.sumOf(metric, { 'error.type': undefined });
    const dropped = givenUp('otel.sdk.processor.log.processed') + givenUp('otel.sdk.exporter.log.exported');
    assert.ok(opened > 500, `connections opened: ${opened}`);
    assert.equal(records + dropped, opened, `${records} open records delivered and ${dropped} given up, for ${opened} connections counted`);
  } finally {
    await agent.stop('SIGKILL');
    await Promise.allSettled(storm);
    await stopChild(server);
    await sink.stop();
  }
});

test('SIGHUP reloads during a storm neither lose nor double a connection', async () => {
  const sink = await OtlpSink.start();
  const server = await startTraffic('nwt-hu-srv', 'tcp-server', ['127.0.0.1']);
  const port = server.info.port as number;
  const file = join(mkdtempSync(join(tmpdir(), 'nw-sig-')), 'agent.yaml');
  writeConfig(file, sink.grpcEndpoint, '500ms');
  const agent = RunningCli.start(['run', '-c', file]);
  try {
    await agent.waitFor(/running/);
    const storm = [1, 2, 3].map(() => runTraffic('nwt-hu-cli', 'tcp-clients', ['127.0.0.1', port, 2000]));
    // Each reload rebuilds the telemetry pipelines (another interval) while the probe keeps running.
    for (let generation = 2; generation <= 4; generation++) {
      await sleep(300);
      writeConfig(file, sink.grpcEndpoint, generation % 2 ? '500ms' : '400ms');
      agent.signal('SIGHUP');
      await agent.waitFor(new RegExp(`configuration reloaded generation=${generation}`));
    }
    await Promise.all(storm);
    const opened = (direction: string) => sink.sumOf('netwatch.connection.opened', { 'server.port': port, 'netwatch.connection.direction': direction });
    await sink.waitFor(() => opened('outbound') >= 6000 && opened('inbound') >= 6000, 20_000);
    await sleep(1200);
    assert.equal(sink.sumOf('netwatch.agent.events.lost', { 'netwatch.probe': 'connections' }), 0, 'the ring kept up (a precondition of exact counts here)');
    assert.equal(opened('outbound'), 6000);
    assert.equal(opened('inbound'), 6000);
  } finally {
    await agent.stop('SIGTERM');
    await stopChild(server);
    await sink.stop();
  }
});
