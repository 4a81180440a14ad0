// nomad_autostart on the real kernel: the agent with the connections and sni receivers (TC on the
// host-side veth of a namespace made here) and the processor pointed at the Nomad API double on
// loopback. Real SYNs nobody answers, real TLS clients, real connect() calls and held
// connections; every count of Nomad calls and of triggers is exact.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { startAgent, type RunningAgent } from '../../src/agent';
import { parseConfig } from '../../src/config';
import { sleep, until } from '../helpers/autostart';
import { createContainerNetns, tcState, type ContainerNetns } from '../helpers/container-netns';
import { NO_DEPLOYMENTS, NomadDouble, type RecordedRequest } from '../helpers/nomad';
import { OtlpSink } from '../helpers/otlp-sink';
import { runTraffic, startTraffic, stopChild, type Started } from '../helpers/processes';
import { connectRefused, nodeTlsHello, startTlsServer } from '../helpers/tls-clients';

const HTTPS = 8443;
const PG = 5432;
const BURST_SYN = 5433;
const BURST_CONNECT = 5434;
const JOBS = ['web', 'postgres', 'burst-syn', 'burst-connect', 'cache'];

let net: ContainerNetns;
let d: NomadDouble;
let sink: OtlpSink;
let agent: RunningAgent;
let tlsServer: ChildProcess;
let cacheServer: Started;
let cachePort: number;

const posts = (job: string): RecordedRequest[] => d.requests().filter((r) => r.method === 'POST' && r.path === `/v1/job/${job}/scale`);
const triggers = (rule: string): number => sink.sumOf('netwatch.nomad.autostart.triggers', { 'netwatch.nomad.autostart.rule': rule });

function agentYaml(): string {
  return `
receivers:
  connections:
    seed_existing: false
  sni:
    interfaces: [${net.hostIf}]
    ports: [${HTTPS}, ${PG}, ${BURST_SYN}]
    poll_interval: 5ms
processors:
  nomad_autostart:
    address: ${d.url}
    agent_host: e2e-host
    rules:
      - name: web
        match: { sni: [app.example.com, "*.app.example.com"], ports: [${HTTPS}] }
        job: web
        group: web
        wait_for: none
      - name: db
        match: { syn_to_port: ${PG} }
        job: postgres
        group: db
        wait_for: none
      - name: burst-syn
        match: { syn_to_port: ${BURST_SYN} }
        job: burst-syn
        group: g
        wait_for: none
      - name: burst-connect
        match: { connect_to: ["${net.ns4}:${BURST_CONNECT}"] }
        job: burst-connect
        group: g
        wait_for: none
      - name: cache
        match: { connect_to: ["${net.ns4}:${cachePort}"] }
        job: cache
        group: g
        wait_for: running
        idle_after: 1500ms
        cooldown: 100ms
exporters:
  otlp:
    endpoint: http://${sink.grpcEndpoint}
service:
  pipelines:
    metrics:
      receivers: [connections, sni]
      processors: [nomad_autostart]
      exporters: [otlp]
    logs:
      receivers: [sni]
      processors: [nomad_autostart]
      exporters: [otlp]
  telemetry:
    metrics:
      export_interval: 200ms
`;
}

before(async () => {
  net = createContainerNetns('nwna', 240);
  d = await NomadDouble.start({ pendingDelayMs: 50 });
  for (const job of JOBS)
    d.addJob({ ID: job, Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: job === 'web' ? 'web' : job === 'postgres' ? 'db' : 'g', Count: 0 }] });
  sink = await OtlpSink.start();
  tlsServer = await startTlsServer('nwn-tls', '::', [HTTPS], net.ns);
  cacheServer = await startTraffic('nwn-cache', 'tcp-server', [net.ns4], { netns: net.ns });
  cachePort = cacheServer.info.port as number;
  agent = await startAgent(parseConfig(agentYaml(), 'nomad-e2e.yaml', {}));
});

after(async () => {
  await agent?.stop();
  if (net) assert.deepEqual(tcState(net.hostIf), { clsact: false, ingress: [], egress: [] }, 'nothing of the agent left on the interface');
  tlsServer?.kill();
  await stopChild(cacheServer);
  await sink?.stop();
  await d?.stop();
  net?.remove();
});

describe('nomad_autostart on real traffic', () => {
  test('a SYN to a watched port with nothing listening makes exactly one scale call, naming the trigger', async () => {
    assert.equal(await connectRefused(net.ns4, PG), 'ECONNREFUSED', 'the kernel answered with a reset');
    await until(() => posts('postgres').length === 1, 'the scale call', 10_000);
    await sleep(500);
    assert.equal(posts('postgres').length, 1);
    const body = posts('postgres')[0].body as any;
    assert.deepEqual([body.Count, body.Target.Group, body.Message], [1, 'db', `autostart: syn to port ${PG} from ${net.host4}`]);
    assert.deepEqual(body.Meta, {
      'netwatch.trigger': 'syn',
      'netwatch.reason': `syn to port ${PG} from ${net.host4}`,
      'netwatch.rule': 'db',
      'netwatch.agent.host': 'e2e-host',
    });
    assert.equal(d.job('postgres')!.TaskGroups[0].Count, 1);
  });

  test('a real TLS client naming a matching server makes one scale call; a non-matching name makes none', async () => {
    await nodeTlsHello(net.ns4, HTTPS, 'other.example.com');
    await sink.waitFor(() => sink.sumOf('netwatch.tls.client_hellos', { 'server.address': 'other.example.com' }) === 1, 10_000);
    await sleep(300);
    assert.equal(posts('web').length, 0, 'the hello was seen, and matched no rule');
    await nodeTlsHello(net.ns4, HTTPS, 'eu.app.example.com');
    await until(() => posts('web').length === 1, 'the scale call', 10_000);
    await sleep(500);
    assert.equal(posts('web').length, 1);
    assert.equal((posts('web')[0].body as any).Message, `autostart: sni eu.app.example.com from ${net.host4}`);
    await sink.waitFor(() => sink.logs({ eventName: 'netwatch.nomad.autostart.wake' }).some((r) => r.attributes['netwatch.nomad.job'] === 'web'), 10_000);
  });

  test('200 concurrent SYNs to a watched port make one scale call', async () => {
    const burst = await runTraffic('nwn-burst-syn', 'concurrent', [net.ns4, BURST_SYN, 200]);
    assert.equal(burst.info.refused, 200);
    await sink.waitFor(() => triggers('burst-syn') === 200, 10_000);
    await until(() => posts('burst-syn').length === 1, 'the scale call', 10_000);
    await sleep(500);
    assert.equal(posts('burst-syn').length, 1);
    assert.equal(d.count('GET', '/v1/job/burst-syn/scale'), 0, 'decided from warm state (the event stream), or from a read of the job: never the scale status');
  });

  test('200 concurrent connect() calls to a watched destination make one scale call', async () => {
    const burst = await runTraffic('nwn-burst-conn', 'concurrent', [net.ns4, BURST_CONNECT, 200]);
    assert.equal(burst.info.refused, 200);
    await sink.waitFor(() => triggers('burst-connect') === 200, 10_000);
    await sleep(300);
    assert.equal(posts('burst-connect').length, 1);
    assert.equal(
      d.count('GET', '/v1/job/burst-connect/scale'),
      0,
      'decided from warm state (the event stream), or from a read of the job: never the scale status',
    );
    assert.match(
      (posts('burst-connect')[0].body as any).Message,
      new RegExp(`^autostart: connect to ${net.ns4.replace(/\./g, '\\.')}:${BURST_CONNECT} from node \\(pid ${burst.pid}\\)$`),
    );
  });

  test('idle_after scales down only when no traffic came and no connection to the port stayed open', async () => {
    const hold = await startTraffic('nwn-hold', 'hold', [net.ns4, cachePort]);
    try {
      await until(() => d.job('cache')!.TaskGroups[0].Count === 1, 'the wake by the held connection', 10_000);
      await sleep(3000);
      assert.equal(posts('cache').filter((r) => (r.body as any).Count === 0).length, 0, 'an open connection keeps it awake past idle_after');
    } finally {
      await stopChild(hold);
    }
    const closed = Date.now();
    await until(() => d.job('cache')!.TaskGroups[0].Count === 0, 'the scale-down', 10_000);
    const down = posts('cache').filter((r) => (r.body as any).Count === 0);
    assert.equal(down.length, 1);
    assert.ok(down[0].at - closed >= 1400, `idle_after counted from the close: ${down[0].at - closed} ms`);
    assert.equal((down[0].body as any).Message, `autostart: idle for 1500ms: no matching traffic and no open connections to port ${cachePort}`);
    await sleep(2000);
    assert.equal(posts('cache').filter((r) => (r.body as any).Count === 0).length, 1, 'once');
  });

  test('a reload builds the processor anew and keeps its counters cumulative', async () => {
    await sink.waitFor(() => triggers('db') === 1, 10_000);
    await agent.reload(parseConfig(agentYaml(), 'nomad-e2e.yaml', {}));
    assert.equal(agent.generation, 2);
    assert.equal(await connectRefused(net.ns4, PG), 'ECONNREFUSED');
    await sink.waitFor(() => triggers('db') === 2, 10_000);
    await sleep(300);
    assert.equal(posts('postgres').length, 1, 'the group is up: a read, no second scale call');
    assert.equal(sink.sumOf('netwatch.nomad.autostart.wakes', { 'netwatch.nomad.autostart.rule': 'db', 'netwatch.nomad.autostart.outcome': 'scaled' }), 1);
  });
});
