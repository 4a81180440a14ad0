// SIGHUP reloads agent.yaml in the real CLI: a bad file is rejected and the running config stays;
// a good one changes behaviour without re-attaching unchanged probes or losing cumulative counters.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { heldBpfObjects, PROGRAMS } from '../helpers/bpf-objects';
import { RunningCli } from '../helpers/cli';
import { OtlpSink } from '../helpers/otlp-sink';
import { freePort } from '../helpers/ports';
import { runTraffic, startTraffic, stopChild, type Started } from '../helpers/processes';

let apiPort = 0;

function config(endpoint: string, excludePort?: number): string {
  const filter = excludePort === undefined ? '' : `processors:\n  filter/drop:\n    exclude:\n      - ports: [${excludePort}]\n`;
  const procs = excludePort === undefined ? '' : '      processors: [filter/drop]\n';
  return `receivers:\n  connections:\n    seed_existing: false\n    interval: 200ms\n${filter}exporters:\n  otlp:\n    endpoint: http://${endpoint}\nservice:\n  server:\n    enabled: true\n    port: ${apiPort}\n  pipelines:\n    metrics:\n      receivers: [connections]\n${procs}      exporters: [otlp]\n  telemetry:\n    metrics:\n      export_interval: 200ms\n`;
}

const health = async (): Promise<any> => (await fetch(`http://127.0.0.1:${apiPort}/health`)).json();

/** The BPF programs and links the agent process holds. */
const held = (pid: number) => heldBpfObjects(pid);

let sink: OtlpSink;
let agent: RunningCli;
let server: Started;
let other: Started;
const dir = mkdtempSync(join(tmpdir(), 'nwt-reload-'));
const file = join(dir, 'agent.yaml');

const opened = (port: number) => sink.sumOf('netwatch.connection.opened', { 'server.port': port, 'netwatch.connection.direction': 'outbound' });

before(async () => {
  apiPort = await freePort('127.0.0.1');
  sink = await OtlpSink.start();
  server = await startTraffic('nwt-rl-srv', 'tcp-server', ['127.0.0.1']);
  other = await startTraffic('nwt-rl-other', 'tcp-server', ['127.0.0.1']);
  writeFileSync(file, config(sink.grpcEndpoint));
  agent = RunningCli.start(['run', '-c', file]);
  await agent.waitFor(/running/);
});
after(async () => {
  await agent.stop();
  await stopChild(server);
  await stopChild(other);
  await sink.stop();
});

test('a bad file on SIGHUP is rejected with its errors and the running configuration keeps working', async () => {
  const port = server.info.port as number;
  await runTraffic('nwt-rl-1', 'tcp-clients', ['127.0.0.1', port, 3]);
  await sink.waitFor(() => opened(port) === 3, 10_000);
  const progs = held(agent.pid);
  assert.equal(progs.progIds.length, PROGRAMS.conn);
  assert.equal(progs.linkIds.length, PROGRAMS.conn);
  writeFileSync(file, 'receivers:\n  connections:\n    ring_buffer_size: 5000\n');
  agent.signal('SIGHUP');
  await agent.waitFor(/reload rejected; keeping the running configuration/);
  assert.match(agent.output, /ring_buffer_size: must be a power of two/);
  const h = await health();
  assert.equal(h.config.generation, 1, '/health: still the first configuration');
  assert.equal(h.config.last_reload.applied, false);
  assert.match(h.config.last_reload.problems.join('\n'), /receivers\.connections\.ring_buffer_size: must be a power of two/);
  await runTraffic('nwt-rl-2', 'tcp-clients', ['127.0.0.1', port, 2]);
  await sink.waitFor(() => opened(port) === 5, 10_000);
  assert.deepEqual(held(agent.pid), progs, 'the probe was not touched');
});

test('a good file on SIGHUP changes behaviour, keeps the probes attached and the counters cumulative', async () => {
  const port = server.info.port as number;
  const otherPort = other.info.port as number;
  const progs = held(agent.pid);
  writeFileSync(file, config(sink.grpcEndpoint, port));
  agent.signal('SIGHUP');
  await agent.waitFor(/configuration reloaded generation=2/);
  assert.deepEqual(held(agent.pid), progs, 'unchanged receiver settings: the same programs and links stay');
  const h = await health();
  assert.deepEqual([h.config.generation, h.config.last_reload.applied, h.config.last_reload.problems, h.ready], [2, true, [], true]);
  await runTraffic('nwt-rl-3', 'tcp-clients', ['127.0.0.1', port, 2]);
  await runTraffic('nwt-rl-4', 'tcp-clients', ['127.0.0.1', otherPort, 4]);
  await sink.waitFor(() => opened(otherPort) === 4, 10_000);
  // The filter now drops the first port: its cumulative count stays at 5, not reset, not grown.
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(opened(port), 5);
});

test('a reload that moves the server to another port serves there and closes the old port, the probes untouched', async () => {
  const progs = held(agent.pid);
  const oldPort = apiPort;
  apiPort = await freePort('127.0.0.1');
  writeFileSync(file, config(sink.grpcEndpoint));
  agent.signal('SIGHUP');
  await agent.waitFor(/configuration reloaded generation=3/);
  const h = await health();
  assert.equal(h.config.generation, 3);
  await assert.rejects(fetch(`http://127.0.0.1:${oldPort}/livez`), 'nothing listens on the old port any more');
  assert.deepEqual(held(agent.pid), progs);
});

test('with --watch, writing the file reloads it without a signal', async () => {
  const port = await freePort('127.0.0.1');
  const wdir = mkdtempSync(join(tmpdir(), 'nwt-watch-'));
  const wfile = join(wdir, 'agent.yaml');
  const yaml = (level: string) =>
    `receivers:\n  connections:\n    seed_existing: false\nexporters:\n  debug:\nservice:\n  server:\n    enabled: true\n    port: ${port}\n  pipelines:\n    metrics:\n      receivers: [connections]\n      exporters: [debug]\n  telemetry:\n    logs:\n      level: ${level}\n`;
  writeFileSync(wfile, yaml('info'));
  const watcher = RunningCli.start(['run', '-c', wfile, '--watch']);
  try {
    await watcher.waitFor(/running .*watch=true/);
    // mtime has a resolution of the file system's clock: make sure the write is seen as a change.
    await new Promise((r) => setTimeout(r, 1100));
    writeFileSync(wfile, 'receivers: [oops\n');
    await watcher.waitFor(/reload rejected/, 15_000);
    writeFileSync(wfile, yaml('debug'));
    await watcher.waitFor(/configuration reloaded generation=2/, 15_000);
    const h = await (await fetch(`http://127.0.0.1:${port}/health`)).json();
    assert.equal(h.config.generation, 2);
  } finally {
    await watcher.stop();
  }
});
