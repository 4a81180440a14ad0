// The real CLI, stopped by a signal: it flushes one last export, exits 0 within service.shutdown_timeout
// and leaves no program, link or cgroup attachment.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as net from 'node:net';
import { heldBpfObjects, stillExisting, type HeldObjects, PROGRAMS } from '../helpers/bpf-objects';
import { RunningCli } from '../helpers/cli';
import { OtlpSink } from '../helpers/otlp-sink';
import { freePort } from '../helpers/ports';
import { runTraffic, startTraffic, stopChild } from '../helpers/processes';

/** Of the objects the agent held while running, those the kernel still has after it exited. */
function leftovers(h: HeldObjects): string[] {
  return [...stillExisting('prog', h.progIds).map((id) => `prog ${id}`), ...stillExisting('link', h.linkIds).map((id) => `link ${id}`)];
}

/** Start the CLI, wait for `ready` in its output, note what it holds, send `signal`, resolve with its exit code. */
async function runUntilSignal(
  args: string[],
  ready: RegExp,
  signal: NodeJS.Signals,
  onSignal?: () => void,
): Promise<{ code: number | null; output: string; held: HeldObjects }> {
  const cli = RunningCli.start(args);
  try {
    await cli.waitFor(ready);
  } catch (e) {
    await cli.stop('SIGKILL');
    throw e;
  }
  const held = heldBpfObjects(cli.pid);
  onSignal?.();
  const code = await cli.stop(signal);
  return { code, output: cli.output, held };
}

test('netwatch run exits 0 on SIGTERM and leaves nothing attached', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nwt-run-'));
  const cfg = join(dir, 'agent.yaml');
  writeFileSync(
    cfg,
    'receivers:\n  connections:\nexporters:\n  debug:\nservice:\n  pipelines:\n    metrics:\n      receivers: [connections]\n      exporters: [debug]\n',
  );
  const { code, output, held } = await runUntilSignal(['run', '-c', cfg], /running/, 'SIGTERM');
  assert.equal(code, 0, output);
  assert.match(output, /stopping signal=SIGTERM/);
  assert.equal(held.progIds.length, PROGRAMS.conn, 'the conn programs were loaded while it ran');
  assert.equal(held.linkIds.length, PROGRAMS.conn, 'and attached through a link each');
  assert.deepEqual(leftovers(held), []);
});

test('netwatch run with connections and packet_fate exits 0 on SIGTERM and leaves none of its programs or links', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nwp-run-'));
  const cfg = join(dir, 'agent.yaml');
  writeFileSync(
    cfg,
    [
      'receivers:',
      '  connections:',
      '  packet_fate:',
      '    interval: 200ms',
      'exporters:',
      '  debug:',
      'service:',
      '  pipelines:',
      '    metrics:',
      '      receivers: [connections, packet_fate]',
      '      exporters: [debug]',
      '    logs:',
      '      receivers: [packet_fate]',
      '      exporters: [debug]',
      '',
    ].join('\n'),
  );
  const { code, output, held } = await runUntilSignal(['run', '-c', cfg], /running/, 'SIGTERM');
  assert.equal(code, 0, output);
  assert.equal(held.progIds.length, PROGRAMS.conn + PROGRAMS.packet_fate, 'the conn and packet_fate programs were loaded');
  assert.equal(held.linkIds.length, PROGRAMS.conn + PROGRAMS.packet_fate, 'each attached through its own link');
  assert.deepEqual(leftovers(held), []);
});

test('netwatch events exits 0 on SIGINT and leaves nothing attached', async () => {
  const { code, output, held } = await runUntilSignal(['events', '--no-seed'], /conn probe attached/, 'SIGINT');
  assert.equal(code, 0, output);
  assert.equal(held.linkIds.length, PROGRAMS.conn);
  assert.deepEqual(leftovers(held), []);
});

test('on SIGTERM the last export is flushed: connections made after the last periodic export still reach the collector', async () => {
  const sink = await OtlpSink.start();
  const srv = await startTraffic('nwt-sd-srv', 'tcp-server', ['127.0.0.1']);
  const port = srv.info.port as number;
  const apiPort = await freePort('127.0.0.1');
  const dir = mkdtempSync(join(tmpdir(), 'nwt-run-'));
  const cfg = join(dir, 'agent.yaml');
  // A one-hour interval: only the flush at shutdown can deliver anything.
  writeFileSync(
    cfg,
    `receivers:\n  connections:\n    seed_existing: false\nexporters:\n  otlp:\n    endpoint: http://${sink.grpcEndpoint}\nservice:\n  server:\n    enabled: true\n    port: ${apiPort}\n  pipelines:\n    metrics:\n      receivers: [connections]\n      exporters: [otlp]\n  telemetry:\n    metrics:\n      export_interval: 1h\n`,
  );
  const agent = RunningCli.start(['run', '-c', cfg]);
  try {
    await agent.waitFor(/running/);
    await runTraffic('nwt-sd-cli', 'tcp-clients', ['127.0.0.1', port, 3]);
    const closes = async () =>
      ((await (await fetch(`http://127.0.0.1:${apiPort}/api/v1/connections?port=${port}&kind=close&direction=outbound`)).json()) as { count: number }).count;
    await waitForAsync(async () => (await closes()) === 3, 10_000);
    assert.equal(sink.sumOf('netwatch.connection.opened', { 'server.port': port }), 0, 'nothing exported before the signal');
    assert.equal(await agent.stop('SIGTERM'), 0, agent.output);
    assert.equal(sink.sumOf('netwatch.connection.opened', { 'server.port': port, 'netwatch.connection.direction': 'outbound' }), 3);
    // The stopped probe's own counts are in that last export too (it read at least these 3 connects).
    assert.ok(sink.sumOf('netwatch.agent.events.read', { 'netwatch.probe': 'connections' }) >= 3);
    assert.equal(sink.sumOf('netwatch.agent.events.lost', { 'netwatch.probe': 'connections' }), 0);
    assert.match(agent.output, /stopped/);
  } finally {
    await agent.stop('SIGKILL');
    await stopChild(srv);
    await sink.stop();
  }
});

test('a collector that never answers cannot hold up the exit beyond service.shutdown_timeout', async () => {
  // Accepts TCP connections and never says anything: an OTLP export to it hangs.
  const sockets: net.Socket[] = [];
  const hang = net.createServer((s) => sockets.push(s));
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
  const dir = mkdtempSync(join(tmpdir(), 'nwt-run-'));
  const cfg = join(dir, 'agent.yaml');
  writeFileSync(
    cfg,
    `receivers:\n  connections:\n    seed_existing: false\nexporters:\n  otlp:\n    endpoint: http://127.0.0.1:${(hang.address() as net.AddressInfo).port}\n    timeout: 30s\nservice:\n  shutdown_timeout: 2s\n  pipelines:\n    metrics:\n      receivers: [connections]\n      exporters: [otlp]\n  telemetry:\n    metrics:\n      export_interval: 1h\n`,
  );
  try {
    const started = Date.now();
    let signalled = 0;
    const { code, output, held } = await runUntilSignal(['run', '-c', cfg], /running/, 'SIGTERM', () => (signalled = Date.now()));
    const took = Date.now() - signalled;
    assert.equal(code, 0, output);
    assert.ok(took < 2000, `exited ${took} ms after SIGTERM (budget 2 s)`);
    assert.ok(signalled > started);
    assert.match(output, /telemetry did not finish flushing within 1000 ms; giving up/);
    assert.deepEqual(leftovers(held), []);
  } finally {
    for (const s of sockets) s.destroy();
    hang.close();
  }
});

async function waitForAsync(ok: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}
