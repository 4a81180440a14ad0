// otel/dashboards/netwatch.json against a real Prometheus: the whole agent (connections, sni,
// packet_fate, nomad_autostart against the Nomad API double) serves its prometheus exporter,
// Prometheus (Debian's package) scrapes it, and the test makes the traffic every panel is about —
// connections from a Docker-shaped and a Nomad-shaped cgroup to a container-like namespace, refused
// connects, SYNs an nftables rule drops, a TLS ClientHello and a connection that is not TLS, a
// held connection, a wake and a sleep of a Nomad group, and exports to a collector that answers
// UNAVAILABLE. Then each panel's query, with Grafana's variables replaced (test/helpers/dashboard.ts),
// goes through Prometheus' query API: it must parse and return at least one series.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { startAgent, type RunningAgent } from '../../src/agent';
import { parseConfig } from '../../src/config';
import { containerCgroups } from '../helpers/cgroups';
import { until as untilTrue } from '../helpers/autostart';
import { createContainerNetns, tcState, type ContainerNetns } from '../helpers/container-netns';
import { labelValuesCall, panelQueries, readDashboard, toPromQL, variableQuery } from '../helpers/dashboard';
import { filterChain, nft } from '../helpers/nft';
import { NO_DEPLOYMENTS, NomadDouble } from '../helpers/nomad';
import { OtlpSink } from '../helpers/otlp-sink';
import { freePort } from '../helpers/ports';
import { runTraffic, startTraffic, stopChild, type Started } from '../helpers/processes';
import { PrometheusServer, type PromSample } from '../helpers/prometheus';
import { curlHello, startTlsServer } from '../helpers/tls-clients';

const SUBNET = 246;
const HTTPS = 8443; // the sni receiver's watched port, where the TLS server listens
const CLOSED = 9; // nothing listens: refused connects, resets and NO_SOCKET drops
const DROPPED_SYN = 9998; // an nftables rule in the namespace drops SYNs: NETFILTER_DROP drops and SYN retransmits
const N = 3; // connections from each cgroup
const SERVER_NAME = 'shop.example.com';
const NOMAD_JOB = `nwd-shop-${process.pid}`;
/** Long enough for a dropped SYN to be sent again (the first retransmit is after 1 s, TCP_TIMEOUT_INIT). */
const SYN_WAIT_MS = 1600;
/** How long one panel's query may take to find its series once the traffic is made. */
const QUERY_PATIENCE_MS = 30_000;

const dashboard = readDashboard();
const templateVariables = dashboard.templating.list.map((v) => v.name);

describe("the dashboard's queries on a real Prometheus scraping the agent", () => {
  const cgroups = containerCgroups('nwd');
  const { dockerId, dockerDir, nomadDir } = cgroups;
  const nomadEnv = cgroups.nomadEnv({ job: NOMAD_JOB, group: 'web', namespace: 'default' });
  let net: ContainerNetns | undefined;
  let d: NomadDouble | undefined;
  let sink: OtlpSink | undefined;
  let agent: RunningAgent | undefined;
  let prom: PrometheusServer | undefined;
  let server: Started | undefined;
  let holdServer: Started | undefined;
  let hold: Started | undefined;
  let task: Started | undefined;
  let tlsServer: ChildProcess | undefined;
  let metricsPort = 0;

  const agentYaml = (n: ContainerNetns, serverPort: number, nomad: NomadDouble, collector: OtlpSink): string => `
receivers:
  connections:
    seed_existing: false
    interval: 300ms
  sni:
    interfaces: [${n.hostIf}]
    ports: [${HTTPS}]
    poll_interval: 5ms
  packet_fate:
    interval: 200ms
processors:
  nomad_autostart:
    address: ${nomad.url}
    agent_host: dashboard-e2e
    rules:
      - name: shop
        match: { connect_to: ["${n.ns4}:${serverPort}"] }
        job: shop
        group: web
        wait_for: running
        idle_after: 1500ms
        cooldown: 100ms
exporters:
  prometheus:
    host: 127.0.0.1
    port: ${metricsPort}
  otlp/unavailable:
    endpoint: http://${collector.grpcEndpoint}
service:
  pipelines:
    metrics:
      receivers: [connections, sni, packet_fate]
      processors: [nomad_autostart]
      exporters: [prometheus, otlp/unavailable]
  telemetry:
    metrics:
      export_interval: 300ms
`;

  before(async () => {
    cgroups.make();
    net = createContainerNetns('nwdb', SUBNET);
    nft(net.ns, filterChain('input', [`tcp dport ${DROPPED_SYN} drop`]));
    d = await NomadDouble.start({ pendingDelayMs: 50 });
    d.addJob({ ID: 'shop', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'web', Count: 0 }] });
    sink = await OtlpSink.start({ unavailable: true });
    server = await startTraffic('nwd-srv', 'tcp-server', [net.ns4], { netns: net.ns });
    holdServer = await startTraffic('nwd-hold-srv', 'tcp-server', [net.ns4], { netns: net.ns });
    tlsServer = await startTlsServer('nwd-tls', '::', [HTTPS], net.ns);
    metricsPort = await freePort('127.0.0.1');
    agent = await startAgent(parseConfig(agentYaml(net, server.info.port as number, d, sink), 'dashboard-e2e.yaml', {}));
    prom = await PrometheusServer.start([`127.0.0.1:${metricsPort}`], { intervalMs: 500 });

    const port = server.info.port as number;
    // Connections by container and by Nomad job; bytes, RTT, duration, states; a connect to the rule's destination wakes the group.
    assert.equal((await runTraffic('nwd-docker', 'tcp-clients', [net.ns4, port, N], { cgroupDir: dockerDir })).info.done, N);
    // The Nomad task's main process lives on, as a task's does: its NOMAD_* name the job of the
    // short-lived clients below once they have exited.
    task = await startTraffic('nwd-task', 'tcp-server', ['127.0.0.1'], { cgroupDir: nomadDir, env: nomadEnv });
    assert.equal((await runTraffic('nwd-nomad', 'tcp-clients', [net.ns4, port, N], { cgroupDir: nomadDir, env: nomadEnv })).info.done, N);
    // Failures (ECONNREFUSED), resets sent (NO_SOCKET) and received, NO_SOCKET drops.
    assert.equal((await runTraffic('nwd-refused', 'refused', [net.ns4, CLOSED, N])).info.refused, N);
    // NETFILTER_DROP drops and a SYN retransmitted in syn_sent.
    await runTraffic('nwd-syndrop', 'syn-abort', [net.ns4, DROPPED_SYN, 1, SYN_WAIT_MS]);
    // A ClientHello naming a server, and a connection to the watched port whose first bytes are not
    // TLS; from child processes, as all the traffic here, since the agent runs in this process.
    await curlHello(net.ns4, HTTPS, SERVER_NAME);
    await runTraffic('nwd-plain', 'send', [net.ns4, HTTPS, 'GET / HTTP/1.0\r\n\r\n']);
    // An open connection (to another port than the rule's, which would keep the group awake).
    hold = await startTraffic('nwd-hold', 'hold', [net.ns4, holdServer.info.port as number]);
    // The wake, then the sleep once idle_after passed with no connection to the rule's port.
    await untilTrue(() => d!.requests().some((r) => r.method === 'POST' && r.path === '/v1/job/shop/scale' && (r.body as any).Count === 1), 'the wake', 15_000);
    await untilTrue(() => d!.job('shop')!.TaskGroups[0].Count === 0, 'the sleep (idle_after 1500ms)', 15_000);
  });

  after(async () => {
    await stopChild(hold);
    await stopChild(task);
    await stopChild(server);
    await stopChild(holdServer);
    if (tlsServer && tlsServer.exitCode === null && tlsServer.signalCode === null) {
      const exited = new Promise((r) => tlsServer!.once('exit', r));
      tlsServer.kill();
      await exited;
    }
    await prom?.stop();
    await agent?.stop();
    const left = net ? tcState(net.hostIf) : undefined;
    await sink?.stop();
    await d?.stop();
    net?.remove();
    cgroups.remove();
    if (left) assert.deepEqual(left, { clsact: false, ingress: [], egress: [] }, 'nothing of the agent left on the interface');
  });

  test('Prometheus scrapes the agent', async () => {
    // Prometheus' own record of its last scrape of each target: one target, the agent, up. Its
    // service discovery hands the static target over a few seconds after start (every 5 s).
    let up: PromSample[] = [];
    const end = Date.now() + 15_000;
    while (up.length === 0 && Date.now() < end) {
      up = await prom!.query('up');
      if (up.length === 0) await new Promise((r) => setTimeout(r, 250));
    }
    assert.deepEqual(
      up.map((s) => [s.metric.instance, s.value]),
      [[`127.0.0.1:${metricsPort}`, 1]],
    );
  });

  test('every panel query parses and returns at least one series', async () => {
    const empty: string[] = [];
    for (const q of panelQueries(dashboard)) {
      const promql = toPromQL(q.expr, templateVariables);
      const end = Date.now() + QUERY_PATIENCE_MS;
      let found: PromSample[] = [];
      for (;;) {
        try {
          found = await prom!.query(promql);
        } catch (e) {
          assert.fail(`panel "${q.panel}" query ${q.refId} does not run: ${(e as Error).message}`);
        }
        if (found.length > 0 || Date.now() > end) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      if (found.length === 0) empty.push(`panel "${q.panel}" query ${q.refId}: no series for ${promql}`);
    }
    assert.deepEqual(empty, [], `queries that found nothing:\n${empty.join('\n')}`);
  });

  test('every query variable offers at least one value (job, host, instance)', async () => {
    for (const v of dashboard.templating.list.filter((x) => x.type === 'query')) {
      const call = labelValuesCall(variableQuery(v))!;
      const values = await prom!.labelValues(call.label, toPromQL(call.selector, templateVariables));
      assert.ok(values.length > 0, `variable ${v.name}: no values of ${call.label} on ${call.selector}`);
    }
  });

  test("the panels show this test's traffic: its container, its Nomad job, its server name, the group's wake and sleep", async () => {
    const labelsOf = async (promql: string, label: string): Promise<string[]> => (await prom!.query(promql)).map((s) => s.metric[label] ?? '');
    assert.ok((await labelsOf('netwatch_connection_opened_total', 'container_id')).includes(dockerId), 'the Docker-shaped cgroup is a container');
    assert.ok((await labelsOf('netwatch_connection_opened_total', 'netwatch_nomad_job')).includes(NOMAD_JOB), 'the Nomad-shaped cgroup is a job');
    assert.ok((await labelsOf('netwatch_tls_client_hellos_total', 'server_address')).includes(SERVER_NAME));
    assert.ok((await labelsOf('netwatch_tls_client_hello_rejections_total', 'error_type')).includes('not_handshake'));
    assert.ok((await labelsOf('netwatch_nomad_autostart_wakes_total{netwatch_nomad_job="shop"}', 'netwatch_nomad_autostart_outcome')).includes('scaled'));
    assert.ok((await labelsOf('netwatch_nomad_autostart_sleeps_total{netwatch_nomad_job="shop"}', 'netwatch_nomad_autostart_outcome')).includes('scaled_down'));
    assert.ok((await labelsOf('otel_sdk_exporter_metric_data_point_exported_total{error_type!=""}', 'error_type')).includes('UNAVAILABLE'));
  });
});
