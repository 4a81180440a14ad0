// The real CLI with an sni receiver on a host-side veth, exporting over OTLP/gRPC to the test sink:
// exact ClientHello counts by server name (lower-cased, bounded with an "_OTHER" bucket), the log
// record per hello, rejections by reason, ports changed by SIGHUP in place, and after SIGTERM
// nothing of ours left on the interface.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { heldBpfObjects, stillExisting, type HeldObjects, PROGRAMS } from '../helpers/bpf-objects';
import { RunningCli } from '../helpers/cli';
import { createContainerNetns, tcState, type ContainerNetns } from '../helpers/container-netns';
import { OtlpSink } from '../helpers/otlp-sink';
import { curlHello, nodeTlsHello, opensslHello, writeInSegments, startTlsServer } from '../helpers/tls-clients';

const W1 = 8443,
  W2 = 9443,
  UNWATCHED = 10443;
const HELLOS = 'netwatch.tls.client_hellos';

function config(endpoint: string, ifname: string, ports: number[]): string {
  return `receivers:
  connections:
    seed_existing: false
  sni:
    interfaces: [${ifname}]
    ports: [${ports.join(', ')}]
    server_names:
      max_distinct: 4
exporters:
  otlp:
    endpoint: http://${endpoint}
service:
  pipelines:
    metrics:
      receivers: [connections, sni]
      exporters: [otlp]
    logs:
      receivers: [sni]
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
let held: HeldObjects;
const dir = mkdtempSync(join(tmpdir(), 'nws-cli-'));
const file = join(dir, 'agent.yaml');

const hellos = (attrs: Record<string, unknown>) => sink.sumOf(HELLOS, attrs);

before(async () => {
  net = createContainerNetns('nwsl', 211);
  sink = await OtlpSink.start();
  server = await startTlsServer('nws-cli-tls', '::', [W1, W2, UNWATCHED], net.ns);
  writeFileSync(file, config(sink.grpcEndpoint, net.hostIf, [W1, W2]));
  agent = RunningCli.start(['run', '-c', file]);
  await agent.waitFor(/running/);
});

after(async () => {
  await agent?.stop('SIGKILL');
  server?.kill();
  await sink?.stop();
  net?.remove();
});

test('every ClientHello is counted once by its lower-cased name and port, none on the unwatched port; names past the limit are "_OTHER"', async () => {
  held = heldBpfObjects(agent.pid);
  await opensslHello(net.ns4, W1, 'Mixed.Case.Example');
  await nodeTlsHello(net.ns6, W2, 'node.example');
  await curlHello(net.ns4, W2, 'curl.example');
  await nodeTlsHello(net.ns4, W1, 'node.example');
  await nodeTlsHello(net.ns4, UNWATCHED, 'unwatched.example');
  await nodeTlsHello(net.ns4, W1, 'fourth.example');
  await nodeTlsHello(net.ns4, W1, 'fifth.example');
  await nodeTlsHello(net.ns6, W1, 'sixth.example');
  await sink.waitFor(() => hellos({}) === 7, 10_000);
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(hellos({}), 7, 'seven connections to watched ports');
  assert.equal(hellos({ 'server.address': 'mixed.case.example', 'server.port': W1, 'network.type': 'ipv4' }), 1);
  assert.equal(hellos({ 'server.address': 'node.example', 'server.port': W2, 'network.type': 'ipv6' }), 1);
  assert.equal(hellos({ 'server.address': 'node.example', 'server.port': W1 }), 1);
  assert.equal(hellos({ 'server.address': 'curl.example', 'server.port': W2, 'process.executable.name': 'curl' }), 1);
  assert.equal(hellos({ 'server.address': 'fourth.example' }), 1);
  assert.equal(hellos({ 'server.address': '_OTHER' }), 2, 'the fifth and sixth new names');
  assert.equal(hellos({ 'server.port': UNWATCHED }), 0);
  assert.equal(hellos({ 'network.io.direction': 'transmit' }), 7, 'seen leaving the host-side interface');
});

test('each ClientHello is one log record with its name, ALPN, versions and tuple', async () => {
  await sink.waitFor(() => sink.logs({ eventName: 'netwatch.tls.client_hello' }).length === 7, 10_000);
  const recs = sink.logs({ eventName: 'netwatch.tls.client_hello' });
  assert.equal(recs.length, 7);
  const mixed = recs.find((r) => r.attributes['server.address'] === 'mixed.case.example');
  assert.ok(mixed, 'the log record keeps the name');
  assert.deepEqual(mixed.attributes['netwatch.tls.client.alpn'], ['h2', 'http/1.1']);
  assert.equal((mixed.attributes['netwatch.tls.client.versions'] as string[])[0], '1.3');
  assert.equal(mixed.attributes['destination.address'], net.ns4);
  assert.equal(mixed.attributes['destination.port'], W1);
  assert.equal(mixed.attributes['source.address'], net.host4);
  assert.equal(typeof mixed.attributes['source.port'], 'number');
  assert.equal(mixed.attributes['network.interface.name'], net.hostIf);
  assert.equal(mixed.attributes['process.executable.name'], 'openssl');
  assert.ok(Math.abs(mixed.timeUnixMs - Date.now()) < 60_000, "stamped with the packet's time, converted to wall clock");
  // The log record is not bounded by the metric's cardinality limit.
  assert.ok(recs.some((r) => r.attributes['server.address'] === 'sixth.example'));
});

test('bytes that are not a ClientHello are counted by reason', async () => {
  await writeInSegments(net.ns4, W1, new TextEncoder().encode('GET / HTTP/1.1\r\nhost: plain.example\r\n\r\n'));
  await sink.waitFor(() => sink.sumOf('netwatch.tls.client_hello.rejections', { 'error.type': 'not_handshake' }) === 1, 10_000);
  assert.equal(hellos({}), 7);
});

test('SIGHUP with other ports applies them in place: the same programs, the new port counted, the dropped one not', async () => {
  writeFileSync(file, config(sink.grpcEndpoint, net.hostIf, [W1, UNWATCHED]));
  agent.signal('SIGHUP');
  await agent.waitFor(/receiver updated in place receiver=sni/);
  await agent.waitFor(/configuration reloaded generation=2/);
  assert.deepEqual(heldBpfObjects(agent.pid), held, 'no program was reloaded or re-attached');
  await nodeTlsHello(net.ns4, UNWATCHED, 'late.example');
  await nodeTlsHello(net.ns4, W2, 'dropped.example');
  await sink.waitFor(() => hellos({ 'server.port': UNWATCHED }) === 1, 10_000);
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(hellos({ 'server.port': UNWATCHED, 'server.address': '_OTHER' }), 1, 'still bounded: the limit carried over the reload');
  assert.equal(hellos({ 'server.port': W2 }), 2, 'cumulative, and nothing new on the dropped port');
});

test('SIGTERM: exit 0, and no filter, qdisc or program of the agent remains', async () => {
  assert.deepEqual(tcState(net.hostIf), { clsact: false, ingress: ['tcx sni_ingress'], egress: ['tcx sni_egress'] });
  const code = await agent.stop('SIGTERM');
  assert.equal(code, 0, agent.output);
  assert.deepEqual(tcState(net.hostIf), { clsact: false, ingress: [], egress: [] });
  assert.deepEqual(stillExisting('prog', held.progIds), []);
  assert.deepEqual(stillExisting('link', held.linkIds), []);
  assert.equal(held.progIds.length, PROGRAMS.conn + PROGRAMS.sni, 'the conn programs and the two TC programs ran');
});
