// The whole agent with a connections and a packet_fate receiver, exporting over OTLP/gRPC to the
// test sink: drops, resets and retransmits of traffic the test makes inside its own namespaces,
// from processes in a Docker-shaped and a Nomad-shaped cgroup, arrive as exact counts with the
// container and Nomad task; sampled drops arrive as log records. This kernel has no netem: the
// loss comes from nftables rules (test/helpers/nft.ts).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startAgent, type RunningAgent } from '../../src/agent';
import { parseConfig } from '../../src/config';
import { ATTR, EVENT, METRIC } from '../../src/catalogue/generated';
import { containerCgroups } from '../helpers/cgroups';
import { heldBpfObjects, stillExisting, PROGRAMS } from '../helpers/bpf-objects';
import { createNetnsPair, type NetnsPair } from '../helpers/netns';
import { filterChain, nft } from '../helpers/nft';
import { OtlpSink } from '../helpers/otlp-sink';
import { runTraffic, startTraffic, stopChild, type Started } from '../helpers/processes';

const K = 10; // UDP datagrams to a port dropped on the way in
const N = 3; // connection attempts whose SYNs are dropped on the way out
const M = 5; // connections to a closed port
const LOST = 3; // data segments lost, so retransmitted

const SUBNET = 225;
const DROPPED_UDP = 9999;
const DROPPED_SYN = 9998;
const CLOSED = 9;

function agentYaml(sink: OtlpSink): string {
  return `
receivers:
  connections:
    seed_existing: false
  packet_fate:
    interval: 200ms
    sample_per_interval: 100000   # every test drop is sampled, whatever else the machine drops
    ring_buffer_size: 4194304
processors:
  filter/test-subnet:
    include:
      - cidrs: [10.${SUBNET}.0.0/24, fd00:${SUBNET}::/64]
exporters:
  otlp/sink:
    endpoint: http://${sink.grpcEndpoint}
service:
  pipelines:
    metrics:
      receivers: [connections, packet_fate]
      exporters: [otlp/sink]
    logs:
      receivers: [packet_fate]
      processors: [filter/test-subnet]
      exporters: [otlp/sink]
  telemetry:
    metrics:
      export_interval: 300ms
`;
}

describe('the agent reporting packet fate over OTLP', () => {
  const cgroups = containerCgroups('nwp');
  const { dockerId, dockerDir, nomadDir } = cgroups;
  const job = `nwp-shop-${process.pid}`;
  const nomadEnv = cgroups.nomadEnv({ job, group: 'frontend', namespace: 'prod' });
  let pair: NetnsPair;
  let sink: OtlpSink;
  let agent: RunningAgent | undefined;
  let server: Started;
  let task: Started;
  let held = { progIds: [] as number[], linkIds: [] as number[] };

  before(async () => {
    cgroups.make();
    pair = createNetnsPair('nwpo', SUBNET);
    server = await startTraffic('nwp-acksrv', 'tcp-ack-server', [pair.addrB4], { netns: pair.b });
    // The Nomad task's main process, alive for the whole test as a task's is: the agent reads the
    // task's NOMAD_* from some process of its cgroup when the short-lived client is already gone.
    task = await startTraffic('nwp-task', 'tcp-server', ['127.0.0.1'], { cgroupDir: nomadDir, env: nomadEnv });
    const port = server.info.port as number;
    nft(pair.b, filterChain('input', [`udp dport ${DROPPED_UDP} drop`, `tcp dport ${port} meta length > 150 numgen inc mod 1000000 < ${LOST} drop`]));
    nft(pair.a, filterChain('output', [`tcp dport ${DROPPED_SYN} drop`]));
    sink = await OtlpSink.start();
    const before = heldBpfObjects(process.pid);
    agent = await startAgent(parseConfig(agentYaml(sink), 'e2e.yaml', {}));
    const during = heldBpfObjects(process.pid);
    held = { progIds: during.progIds.filter((id) => !before.progIds.includes(id)), linkIds: during.linkIds.filter((id) => !before.linkIds.includes(id)) };

    const inDocker = { netns: pair.a, cgroupDir: dockerDir };
    const udp = await runTraffic('nwp-udp', 'udp-send', [pair.addrB4, DROPPED_UDP, K], inDocker);
    assert.equal(udp.info.sent, K);
    await runTraffic('nwp-synout', 'syn-abort', [pair.addrB4, DROPPED_SYN, N, 300], inDocker);
    const refused = await runTraffic('nwp-refused', 'refused', [pair.addrB4, CLOSED, M], { netns: pair.a, cgroupDir: nomadDir, env: nomadEnv });
    assert.equal(refused.info.refused, M);
    await runTraffic('nwp-lossy', 'tcp-request', [pair.addrB4, port, 400, 1], inDocker);
    await agent.flush();
    await sink.waitFor(
      () => sink.sumOf(METRIC.TCP_RETRANSMITS, { [ATTR.CONTAINER_ID]: dockerId, [ATTR.NETWORK_CONNECTION_STATE]: 'established' }) >= LOST,
      10_000,
    );
    await agent.flush();
    // The resets of the refused connections, counted in an earlier interval, are exported too (or the test below says which came).
    await sink
      .waitFor(() => sink.sumOf(METRIC.TCP_RESETS, { [ATTR.NETWORK_IO_DIRECTION]: 'transmit', [ATTR.TCP_RESET_REASON]: 'NO_SOCKET' }) >= M, 10_000)
      .catch(() => undefined);
  });
  after(async () => {
    await stopChild(server);
    await stopChild(task);
    await agent?.stop();
    await sink?.stop();
    pair?.remove();
    cgroups.remove();
  });

  test(`${K} datagrams to a port an nftables rule drops are ${K} drops with the netfilter reason on the receiving interface`, () => {
    assert.equal(
      sink.sumOf(METRIC.PACKET_DROPS, {
        [ATTR.DROP_REASON]: 'NETFILTER_DROP',
        [ATTR.NETWORK_INTERFACE_NAME]: 'nwpovb',
        [ATTR.NETWORK_TRANSPORT]: 'udp',
        [ATTR.NETWORK_TYPE]: 'ipv4',
      }),
      K,
    );
  });

  test('SYNs dropped on the way out count against the Docker container of the client, as do their retransmissions', () => {
    const retransmits = sink.sumOf(METRIC.TCP_RETRANSMITS, { [ATTR.CONTAINER_ID]: dockerId, [ATTR.NETWORK_CONNECTION_STATE]: 'syn_sent' });
    assert.equal(
      sink.sumOf(METRIC.PACKET_DROPS, {
        [ATTR.CONTAINER_ID]: dockerId,
        [ATTR.DROP_REASON]: 'NETFILTER_DROP',
        [ATTR.NETWORK_TRANSPORT]: 'tcp',
        [ATTR.PROCESS_EXECUTABLE_NAME]: 'node',
      }),
      N + retransmits,
    );
  });

  test(`${M} connections to a closed port: ${M} resets sent for no socket, ${M} received by the Nomad task`, () => {
    // Every reset series exported, for the message: this failed once in a full run (0 of 5) and not alone.
    const seen = () =>
      sink
        .latest(METRIC.TCP_RESETS)
        .map((p) => `${JSON.stringify(p.attributes)} = ${p.value}`)
        .join('\n');
    assert.equal(
      sink.sumOf(METRIC.TCP_RESETS, { [ATTR.NETWORK_IO_DIRECTION]: 'transmit', [ATTR.TCP_RESET_REASON]: 'NO_SOCKET', [ATTR.NETWORK_INTERFACE_NAME]: 'nwpovb' }),
      M,
      `resets exported:\n${seen()}\nagent stats: ${JSON.stringify(agent?.stats())}`,
    );
    assert.equal(
      sink.sumOf(METRIC.TCP_RESETS, {
        [ATTR.NETWORK_IO_DIRECTION]: 'receive',
        [ATTR.NETWORK_CONNECTION_STATE]: 'syn_sent',
        [ATTR.NOMAD_JOB]: job,
        [ATTR.NOMAD_GROUP]: 'frontend',
        [ATTR.NOMAD_TASK]: 'web',
        [ATTR.NOMAD_NAMESPACE]: 'prod',
      }),
      M,
    );
  });

  test(`a request that loses its first ${LOST} transmissions is ${LOST} retransmits of the Docker container`, () => {
    assert.equal(
      sink.sumOf(METRIC.TCP_RETRANSMITS, { [ATTR.CONTAINER_ID]: dockerId, [ATTR.NETWORK_CONNECTION_STATE]: 'established', [ATTR.NETWORK_TYPE]: 'ipv4' }),
      LOST,
    );
    assert.equal(
      sink.sumOf(METRIC.PACKET_DROPS, { [ATTR.DROP_REASON]: 'NETFILTER_DROP', [ATTR.NETWORK_INTERFACE_NAME]: 'nwpovb', [ATTR.NETWORK_TRANSPORT]: 'tcp' }),
      LOST,
    );
  });

  test('each dropped datagram is one log record with its addresses, reason and the kernel function that dropped it', () => {
    const records = sink.logs({ eventName: EVENT.PACKET_DROP }).filter((r) => r.attributes[ATTR.DESTINATION_PORT] === DROPPED_UDP);
    assert.equal(records.length, K);
    for (const r of records) {
      assert.equal(r.severityText, 'WARN');
      assert.equal(r.attributes[ATTR.DROP_REASON], 'NETFILTER_DROP');
      assert.equal(r.attributes[ATTR.SOURCE_ADDRESS], pair.addrA4);
      assert.equal(r.attributes[ATTR.DESTINATION_ADDRESS], pair.addrB4);
      assert.equal(r.attributes[ATTR.NETWORK_INTERFACE_NAME], 'nwpovb');
      assert.equal(r.attributes[ATTR.NETWORK_NAMESPACE], pair.inoB);
      assert.match(String(r.attributes[ATTR.DROP_LOCATION]), /^\w+\+0x[0-9a-f]+$/);
      assert.ok(Math.abs(r.timeUnixMs - Date.now()) < 60_000, 'stamped with the kernel time of the drop, as wall clock');
    }
    const resets = sink.logs({ eventName: EVENT.TCP_RESET }).filter((r) => r.attributes[ATTR.NOMAD_JOB] === job);
    assert.equal(resets.length, M, 'the client side of each refused connection');
    const logged = sink.logs().filter((r) => r.eventName === EVENT.PACKET_DROP || r.eventName === EVENT.TCP_RESET);
    assert.ok(
      logged.every((r) =>
        [r.attributes[ATTR.SOURCE_ADDRESS], r.attributes[ATTR.DESTINATION_ADDRESS]].some(
          (a) => String(a).startsWith(`10.${SUBNET}.`) || String(a).startsWith(`fd00:${SUBNET}:`),
        ),
      ),
      'the filter kept only the test subnet',
    );
  });

  test("reports the packet_fate probe's records read and none lost", () => {
    assert.ok(sink.sumOf(METRIC.AGENT_EVENTS_READ, { [ATTR.PROBE]: 'packet_fate' }) >= K);
    assert.equal(sink.sumOf(METRIC.AGENT_EVENTS_LOST, { [ATTR.PROBE]: 'packet_fate' }), 0);
  });

  test('stopping the agent leaves none of its programs or links', async () => {
    const n = PROGRAMS.conn + PROGRAMS.packet_fate;
    assert.deepEqual([held.progIds.length, held.linkIds.length], [n, n]);
    await agent!.stop();
    agent = undefined;
    assert.deepEqual(stillExisting('prog', held.progIds), []);
    assert.deepEqual(stillExisting('link', held.linkIds), []);
  });
});
