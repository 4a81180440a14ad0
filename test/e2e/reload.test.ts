// SIGHUP reloads agent.yaml in the real CLI: a bad file is rejected and the running config stays;
// a good one changes behaviour without re-attaching unchanged probes or losing cumulative counters.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { heldBpfObjects } from '../helpers/bpf-objects';
import { OtlpSink } from '../helpers/otlp-sink';
import { runTraffic, startTraffic, stopChild, type Started } from '../helpers/processes';

const CLI = join(__dirname, '../../src/cli/main.js');

function config(endpoint: string, excludePort?: number): string {
  const filter = excludePort === undefined ? '' : `processors:\n  filter/drop:\n    exclude:\n      - ports: [${excludePort}]\n`;
  const procs = excludePort === undefined ? '' : '      processors: [filter/drop]\n';
  return `receivers:\n  connections:\n    seed_existing: false\n${filter}exporters:\n  otlp:\n    endpoint: http://${endpoint}\nservice:\n  pipelines:\n    metrics:\n      receivers: [connections]\n${procs}      exporters: [otlp]\n  telemetry:\n    metrics:\n      export_interval: 200ms\n`;
}

/** The BPF programs and links the agent process holds. */
const held = (pid: number) => heldBpfObjects(pid);

let sink: OtlpSink;
let agent: ChildProcess;
let output = '';
let server: Started;
let other: Started;
const dir = mkdtempSync(join(tmpdir(), 'nwt-reload-'));
const file = join(dir, 'agent.yaml');

async function waitOutput(re: RegExp, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!re.test(output)) {
    if (Date.now() > end) throw new Error(`no ${re} in agent output:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const opened = (port: number) => sink.sumOf('netwatch.connection.opened', { 'server.port': port, 'netwatch.connection.direction': 'outbound' });

before(async () => {
  sink = await OtlpSink.start();
  server = await startTraffic('nwt-rl-srv', 'tcp-server', ['127.0.0.1']);
  other = await startTraffic('nwt-rl-other', 'tcp-server', ['127.0.0.1']);
  writeFileSync(file, config(sink.grpcEndpoint));
  agent = spawn(process.execPath, [CLI, 'run', '-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  agent.stdout!.on('data', (d) => (output += d));
  agent.stderr!.on('data', (d) => (output += d));
  await waitOutput(/running/);
});
after(async () => {
  if (agent.exitCode === null) {
    agent.kill('SIGTERM');
    await new Promise((r) => agent.once('exit', r));
  }
  await stopChild(server);
  await stopChild(other);
  await sink.stop();
});

test('a bad file on SIGHUP is rejected with its errors and the running configuration keeps working', async () => {
  const port = server.info.port as number;
  await runTraffic('nwt-rl-1', 'tcp-clients', ['127.0.0.1', port, 3]);
  await sink.waitFor(() => opened(port) === 3, 10_000);
  const progs = held(agent.pid!);
  assert.equal(progs.progIds.length, 5);
  assert.equal(progs.linkIds.length, 5);
  writeFileSync(file, 'receivers:\n  connections:\n    ring_buffer_size: 5000\n');
  agent.kill('SIGHUP');
  await waitOutput(/reload rejected; keeping the running configuration/);
  assert.match(output, /ring_buffer_size: must be a power of two/);
  await runTraffic('nwt-rl-2', 'tcp-clients', ['127.0.0.1', port, 2]);
  await sink.waitFor(() => opened(port) === 5, 10_000);
  assert.deepEqual(held(agent.pid!), progs, 'the probe was not touched');
});

test('a good file on SIGHUP changes behaviour, keeps the probes attached and the counters cumulative', async () => {
  const port = server.info.port as number;
  const otherPort = other.info.port as number;
  const progs = held(agent.pid!);
  writeFileSync(file, config(sink.grpcEndpoint, port));
  agent.kill('SIGHUP');
  await waitOutput(/configuration reloaded generation=2/);
  assert.deepEqual(held(agent.pid!), progs, 'unchanged receiver settings: the same programs and links stay');
  await runTraffic('nwt-rl-3', 'tcp-clients', ['127.0.0.1', port, 2]);
  await runTraffic('nwt-rl-4', 'tcp-clients', ['127.0.0.1', otherPort, 4]);
  await sink.waitFor(() => opened(otherPort) === 4, 10_000);
  // The filter now drops the first port: its cumulative count stays at 5, not reset, not grown.
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(opened(port), 5);
});
