// A connections receiver added by a reload hands its socket-owner map to an sni receiver that was
// running without one: the sni receiver is restarted with the map, ClientHellos that carried no
// process before the reload carry the client's process after it, and the restarted receiver's
// counters say they start again (a new start time, counting from 0).
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { RunningCli } from '../helpers/cli';
import { createContainerNetns, type ContainerNetns } from '../helpers/container-netns';
import { OtlpSink } from '../helpers/otlp-sink';
import { curlHello, startTlsServer } from '../helpers/tls-clients';

const PORT = 8443;

function config(endpoint: string, ifname: string, withConnections: boolean): string {
  const receivers = withConnections ? '[connections, sni]' : '[sni]';
  return `receivers:
${withConnections ? '  connections:\n    seed_existing: false\n' : ''}  sni:
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
