// A connections receiver added by a reload hands its socket-owner map to an sni receiver that was
// running without one: the sni receiver is restarted with the map, ClientHellos that carried no
// process before the reload carry the client's process after it, and the restarted receiver's
// counters say they start again (a new start time, counting from 0). The conn probe fills its
// socket-owner map (for packet_fate's classic tracepoints) only while a packet_fate receiver runs:
// one added by a reload restarts the connections receiver, and its map fills.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { execFileSync, spawn } from 'node:child_process';
import { RunningCli } from '../helpers/cli';
import { createContainerNetns, type ContainerNetns } from '../helpers/container-netns';
import { OtlpSink } from '../helpers/otlp-sink';
import { curlHello, startTlsServer } from '../helpers/tls-clients';

const PORT = 8443;

function config(endpoint: string, ifname: string, withConnections: boolean, withFate = false): string {
  const receivers = withConnections ? (withFate ? '[connections, sni, packet_fate]' : '[connections, sni]') : '[sni]';
  return `receivers:
${withConnections ? '  connections:\n    seed_existing: false\n' : ''}${withFate ? '  packet_fate:\n' : ''}  sni:
    interfaces: [${ifname}]
    ports: [${PORT}]
exporters:
  otlp:
    endpoint: http://${endpoint}
service:
  pipelines:
    metrics:
      receivers: ${receivers}
      exporters: [otlp]
    logs:
      receivers: ${receivers}
      exporters: [otlp]
  telemetry:
    metrics:
      export_interval: 200ms
`;
}

let net: ContainerNetns;
let sink: OtlpSink;
let server: ChildProcess;
let agent: RunningCli;
const file = join(mkdtempSync(join(tmpdir(), 'nws-rlm-')), 'agent.yaml');

const readBySni = () => sink.latest('netwatch.agent.events.read', { 'netwatch.probe': 'sni' })[0];
const hello = (name: string) => sink.logs({ eventName: 'netwatch.tls.client_hello' }).filter((r) => r.attributes['server.address'] === name);

before(async () => {
  net = createContainerNetns('nwrm', 213);
  sink = await OtlpSink.start();
  server = await startTlsServer('nws-rlm-tls', '::', [PORT], net.ns);
  writeFileSync(file, config(sink.grpcEndpoint, net.hostIf, false));
  agent = RunningCli.start(['run', '-c', file]);
  await agent.waitFor(/running/);
});

after(async () => {
  await agent?.stop('SIGKILL');
  server?.kill();
  await sink?.stop();
  net?.remove();
});

test('without a connections receiver a ClientHello carries no process', async () => {
  await curlHello(net.ns4, PORT, 'before.example');
  await sink.waitFor(() => hello('before.example').length === 1, 10_000);
  assert.equal(hello('before.example')[0]!.attributes['process.executable.name'], undefined);
});

test('a connections receiver added by SIGHUP restarts the sni receiver with its map: the next ClientHello carries curl', async () => {
  await sink.waitFor(() => (readBySni()?.value ?? 0) >= 2, 10_000);
  const before = readBySni()!;
  writeFileSync(file, config(sink.grpcEndpoint, net.hostIf, true));
  agent.signal('SIGHUP');
  await agent.waitFor(/configuration reloaded generation=2/);
  assert.match(agent.output, /receiver restarted with its map provider receiver=sni/);
  await curlHello(net.ns4, PORT, 'after.example');
  await sink.waitFor(() => hello('after.example').length === 1, 10_000);
  assert.equal(hello('after.example')[0]!.attributes['process.executable.name'], 'curl');
  assert.equal(hello('before.example').length, 1, 'nothing sent twice');
  await sink.waitFor(() => (readBySni()?.startTimeUnixNano ?? 0) > before.startTimeUnixNano, 10_000);
  const after = readBySni()!;
  assert.ok(after.startTimeUnixNano > before.timeUnixNano, 'the re-created receiver counts from a start time after the last export of the old one');
  assert.ok(after.value < before.value + 2, `counted from 0 again: ${before.value} then ${after.value}`);
});

/** Owners of the agent's conn probe `owners` map (the map of that name among those the agent's fds hold), by pid. */
function ownerPids(pid: number): number[] {
  const ids = new Set<number>();
  for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
    const m = /^map_id:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
    if (m) ids.add(Number(m[1]));
  }
  const owners = [...ids].filter(
    (id) => (JSON.parse(execFileSync('bpftool', ['map', 'show', 'id', String(id), '-j'], { encoding: 'utf8' })) as { name?: string }).name === 'owners',
  );
  assert.equal(owners.length, 1, "one owners map: the conn probe's");
  const dump = JSON.parse(execFileSync('bpftool', ['map', 'dump', 'id', String(owners[0]), '-j'], { encoding: 'utf8' })) as {
    formatted: { value: { pid: number } };
  }[];
  return dump.map((e) => e.formatted.value.pid);
}

/** A connection held open by a process of its own (the test process also accepts the agent's OTLP connections). */
async function held(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', `require('net').connect(${PORT}, '${net.ns4}', () => console.log('up')); setInterval(() => {}, 1000);`]);
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`the client exited (${code})`)));
  });
  return child;
}

test('the socket-owner map stays empty without packet_fate; a packet_fate receiver added by SIGHUP restarts the connections receiver, which fills it', async () => {
  const before = await held();
  assert.deepEqual(ownerPids(agent.pid), [], 'no packet_fate receiver: nothing written to the owners map');
  before.kill();
  writeFileSync(file, config(sink.grpcEndpoint, net.hostIf, true, true));
  agent.signal('SIGHUP');
  await agent.waitFor(/configuration reloaded generation=3/);
  assert.match(agent.output, /receiver stopped for reload receiver=connections/);
  const after = await held();
  try {
    assert.equal(ownerPids(agent.pid).filter((p) => p === after.pid).length, 1, "the held connection's owner, for packet_fate");
  } finally {
    after.kill();
  }
});
