import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ExporterConfig } from '../../../../src/config/types';
import type { PacketFateReceiverConfig } from '../../../../src/receivers/packet_fate/config';
import type { PipelineEvent } from '../../../../src/pipeline/event';
import { ATTR, EVENT, METRIC } from '../../../../src/catalogue/generated';
import { tcpFlagsText } from '../../../../src/receivers/packet_fate/attributes';
import { fateBody } from '../../../../src/receivers/packet_fate/logs';
import { createTelemetry } from '../../../../src/telemetry/sdk';
import { OtlpSink } from '../../../helpers/otlp-sink';
import { fateCount, fateSample } from '../../pipeline/events';
import { agentConfig, fateReceiver, otlpGrpc, receiver } from '../../telemetry/fixtures';

const docker = { cgroupPath: '/system.slice/docker-c0ffee.scope', runtime: 'docker' as const, id: 'c0ffee' };
const nomad = { allocId: 'a1', task: 'web', job: 'shop', group: 'frontend', namespace: 'prod' };
const nginx = { pid: 77, executableName: 'nginx', commandLine: 'nginx' };

type Consume = (signal: 'metrics' | 'logs', ev: PipelineEvent) => void;

/** A telemetry with one packet_fate receiver exporting to a fresh OTLP sink, fed by `feed`, flushed. */
async function exported(over: Partial<PacketFateReceiverConfig>, feed: (consume: Consume) => void): Promise<OtlpSink> {
  const s = await OtlpSink.start();
  const cfg = agentConfig({ exporters: [otlpGrpc(s.grpcEndpoint)], receiver: fateReceiver(over) });
  const t = createTelemetry(cfg);
  feed((signal, ev) => t.sinkFor(signal).consume(ev));
  await t.forceFlush();
  await t.shutdown();
  return s;
}

test('kernel counts become cumulative counters by reason, protocol, interface, process, container and Nomad task', async () => {
  const s = await exported({}, (consume) => {
    consume('metrics', fateCount({ count: 5 }));
    consume('metrics', fateCount({ count: 2 })); // the next interval of the same key
    consume(
      'metrics',
      fateCount({ count: 3, reason: 'NO_SOCKET', transport: 'udp', interfaceName: 'veth1', pid: 77, process: nginx, container: docker, nomad }),
    );
    consume('metrics', fateCount({ kind: 'reset_sent', reason: 'NO_SOCKET', count: 4, interfaceName: 'lo' }));
    consume('metrics', fateCount({ kind: 'reset_received', reason: '', state: 'established', count: 6, interfaceName: '' }));
    consume('metrics', fateCount({ kind: 'retransmit', reason: '', state: 'syn_sent', count: 8, interfaceName: '' }));
    consume('logs', fateCount({ count: 100 })); // counts never become log records
  });
  try {
    assert.equal(s.sumOf(METRIC.PACKET_DROPS), 10);
    assert.equal(
      s.sumOf(METRIC.PACKET_DROPS, {
        [ATTR.DROP_REASON]: 'NETFILTER_DROP',
        [ATTR.NETWORK_TRANSPORT]: 'tcp',
        [ATTR.NETWORK_TYPE]: 'ipv4',
        [ATTR.NETWORK_INTERFACE_NAME]: 'eth0',
        [ATTR.PROCESS_EXECUTABLE_NAME]: 'curl',
      }),
      7,
    );
    assert.equal(
      s.sumOf(METRIC.PACKET_DROPS, {
        [ATTR.DROP_REASON]: 'NO_SOCKET',
        [ATTR.NETWORK_TRANSPORT]: 'udp',
        [ATTR.NETWORK_INTERFACE_NAME]: 'veth1',
        [ATTR.PROCESS_EXECUTABLE_NAME]: 'nginx',
        [ATTR.CONTAINER_ID]: 'c0ffee',
        [ATTR.NOMAD_JOB]: 'shop',
        [ATTR.NOMAD_GROUP]: 'frontend',
        [ATTR.NOMAD_TASK]: 'web',
        [ATTR.NOMAD_NAMESPACE]: 'prod',
      }),
      3,
    );
    assert.equal(
      s.sumOf(METRIC.TCP_RESETS, { [ATTR.NETWORK_IO_DIRECTION]: 'transmit', [ATTR.TCP_RESET_REASON]: 'NO_SOCKET', [ATTR.NETWORK_INTERFACE_NAME]: 'lo' }),
      4,
    );
    assert.equal(s.sumOf(METRIC.TCP_RESETS, { [ATTR.NETWORK_IO_DIRECTION]: 'receive', [ATTR.NETWORK_CONNECTION_STATE]: 'established' }), 6);
    assert.equal(s.sumOf(METRIC.TCP_RETRANSMITS, { [ATTR.NETWORK_CONNECTION_STATE]: 'syn_sent' }), 8);
    const drops = s.latest(METRIC.PACKET_DROPS);
    assert.equal(drops[0].unit, '{packet}');
    assert.ok(
      drops.every((p) => p.monotonic && p.temporality === 2),
      'cumulative monotonic sums',
    );
    assert.ok(
      drops.every((p) => !(ATTR.PROCESS_PID in p.attributes)),
      'process.pid is opt-in',
    );
    const received = s.latest(METRIC.TCP_RESETS).find((p) => p.attributes[ATTR.NETWORK_IO_DIRECTION] === 'receive')!;
    assert.ok(!(ATTR.TCP_RESET_REASON in received.attributes), 'a received reset has no reason of ours');
    assert.equal(s.logs().length, 0);
  } finally {
    await s.stop();
  }
});

test('include.process_pid adds the pid; a switched-off metric is not exported', async () => {
  const s = await exported({ include: { process_pid: true }, metrics: { 'netwatch.tcp.retransmits': { enabled: false } } }, (consume) => {
    consume('metrics', fateCount({ count: 2, pid: 77 }));
    consume('metrics', fateCount({ kind: 'retransmit', reason: '', count: 9 }));
  });
  try {
    assert.equal(s.sumOf(METRIC.PACKET_DROPS, { [ATTR.PROCESS_PID]: 77 }), 2);
    assert.ok(!s.metricNames().includes(METRIC.TCP_RETRANSMITS));
  } finally {
    await s.stop();
  }
});

test('sampled records become log records named by kind, with the tuple, the drop location and the owner', async () => {
  const s = await exported({ events: { 'netwatch.tcp.retransmit': { enabled: true } } }, (consume) => {
    consume('logs', fateSample({ timeUnixMs: 1_700_000_000_123, process: nginx, container: docker, nomad }));
    consume(
      'logs',
      fateSample({
        kind: 'reset_sent',
        reason: 'NO_SOCKET',
        sourceAddress: '10.0.0.2',
        sourcePort: 8080,
        destinationAddress: '10.0.0.1',
        destinationPort: 51000,
        tcpFlags: 0,
        locationName: undefined,
        location: 0n,
      }),
    );
    consume('logs', fateSample({ kind: 'reset_received', reason: '', state: 'established', locationName: undefined, location: 0n }));
    consume('logs', fateSample({ kind: 'retransmit', reason: '', state: 'syn_sent', locationName: undefined, location: 0n }));
    consume('metrics', fateSample()); // samples never count: the kernel's tables do
  });
  try {
    const [drop] = s.logs({ eventName: EVENT.PACKET_DROP });
    assert.equal(drop.severityText, 'WARN');
    assert.equal(drop.timeUnixMs, 1_700_000_000_123);
    assert.equal(drop.body, 'dropped a tcp packet 10.0.0.2:40000 -> 93.184.216.34:443 on eth0: NETFILTER_DROP at nf_hook_slow+0x4c (nginx)');
    assert.deepEqual(drop.attributes, {
      [ATTR.DROP_REASON]: 'NETFILTER_DROP',
      [ATTR.DROP_LOCATION]: 'nf_hook_slow+0x4c',
      [ATTR.NETWORK_TYPE]: 'ipv4',
      [ATTR.NETWORK_TRANSPORT]: 'tcp',
      [ATTR.NETWORK_INTERFACE_NAME]: 'eth0',
      [ATTR.SOURCE_ADDRESS]: '10.0.0.2',
      [ATTR.SOURCE_PORT]: 40000,
      [ATTR.DESTINATION_ADDRESS]: '93.184.216.34',
      [ATTR.DESTINATION_PORT]: 443,
      [ATTR.TCP_FLAGS]: 'SYN',
      [ATTR.NETWORK_NAMESPACE]: 4026531840,
      [ATTR.PROCESS_PID]: 42,
      [ATTR.PROCESS_EXECUTABLE_NAME]: 'nginx',
      [ATTR.CONTAINER_ID]: 'c0ffee',
      [ATTR.CONTAINER_RUNTIME_NAME]: 'docker',
      [ATTR.NOMAD_JOB]: 'shop',
      [ATTR.NOMAD_GROUP]: 'frontend',
      [ATTR.NOMAD_TASK]: 'web',
      [ATTR.NOMAD_NAMESPACE]: 'prod',
      [ATTR.NOMAD_ALLOC_ID]: 'a1',
    });
    const resets = s.logs({ eventName: EVENT.TCP_RESET });
    assert.deepEqual(
      resets.map((r) => r.attributes[ATTR.NETWORK_IO_DIRECTION]),
      ['transmit', 'receive'],
    );
    assert.equal(resets[0].attributes[ATTR.TCP_RESET_REASON], 'NO_SOCKET');
    assert.equal(resets[0].body, 'sent a TCP reset 10.0.0.2:8080 -> 10.0.0.1:51000: NO_SOCKET (curl)');
    assert.equal(resets[1].body, 'received a TCP reset from 10.0.0.2:40000 on 93.184.216.34:443 (curl, established)');
    assert.equal(s.logs({ eventName: EVENT.TCP_RETRANSMIT }).length, 1);
    assert.equal(s.metricNames().filter((m) => m.startsWith('netwatch.packet') || m.startsWith('netwatch.tcp')).length, 0);
  } finally {
    await s.stop();
  }
});

test('the retransmit log event is off by default, and a switched-off event sends nothing', async () => {
  const s = await exported({ events: { 'netwatch.packet.drop': { enabled: false } } }, (consume) => {
    consume('logs', fateSample());
    consume('logs', fateSample({ kind: 'retransmit', reason: '' }));
    consume('logs', fateSample({ kind: 'reset_sent', reason: 'NO_SOCKET' }));
  });
  try {
    assert.deepEqual(
      s.logs().map((r) => r.eventName),
      [EVENT.TCP_RESET],
    );
  } finally {
    await s.stop();
  }
});

test('a drop without addresses or owner still reads as a sentence', () => {
  assert.equal(
    fateBody(
      fateSample({
        networkType: undefined,
        transport: undefined,
        sourceAddress: '',
        sourcePort: 0,
        destinationAddress: '',
        destinationPort: 0,
        interfaceName: '',
        locationName: undefined,
        comm: '',
        pid: 0,
        process: undefined,
        reason: 'QUEUE_PURGE',
      }),
    ),
    'dropped a packet: QUEUE_PURGE',
  );
  assert.equal(
    fateBody(fateSample({ transport: 'udp', sourcePort: 0, destinationPort: 0, comm: '', process: undefined, locationName: undefined })),
    'dropped a udp packet 10.0.0.2 -> 93.184.216.34 on eth0: NETFILTER_DROP',
  );
  assert.equal(
    fateBody(fateSample({ kind: 'retransmit', comm: 'curl', process: undefined })),
    'retransmitted a TCP segment 10.0.0.2:40000 -> 93.184.216.34:443',
    "the kernel's comm (a thread name) never stands in for the executable",
  );
});

test('TCP flags read as tcpdump names them', () => {
  assert.equal(tcpFlagsText(0x02), 'SYN');
  assert.equal(tcpFlagsText(0x12), 'SYN|ACK');
  assert.equal(tcpFlagsText(0x18), 'PSH|ACK');
  assert.equal(tcpFlagsText(0), '');
});

test('the basic debug line adds drops by reason, resets and retransmits when a packet_fate receiver exports', async () => {
  const out: string[] = [];
  const debug: ExporterConfig = { type: 'debug', id: 'debug', verbosity: 'basic' };
  const t = createTelemetry(agentConfig({ exporters: [debug], signals: ['metrics'], intervalMs: 60_000, receiver: receiver(), also: [fateReceiver()] }), {
    debugWrite: (l) => out.push(l),
  });
  t.sinkFor('metrics').consume(fateCount({ count: 3 }));
  t.sinkFor('metrics').consume(fateCount({ count: 1, reason: 'NO_SOCKET' }));
  t.sinkFor('metrics').consume(fateCount({ kind: 'reset_sent', reason: 'NO_SOCKET', count: 1 }));
  t.sinkFor('metrics').consume(fateCount({ kind: 'reset_received', reason: '', count: 2 }));
  t.sinkFor('metrics').consume(fateCount({ kind: 'retransmit', reason: '', count: 5 }));
  await t.forceFlush();
  await t.shutdown();
  assert.equal(
    out[0],
    'netwatch: 0 connections opened | 0 open | 0 failed | 4 packets dropped (NETFILTER_DROP 3, NO_SOCKET 1) | 1 resets sent, 2 received | 5 retransmits | 0 events lost',
  );
});
