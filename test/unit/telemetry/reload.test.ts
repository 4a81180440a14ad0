import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setLogSink } from '../../../src/log';
import { METRIC } from '../../../src/catalogue/generated';
import { createTelemetry } from '../../../src/telemetry/sdk';
import { OtlpSink } from '../../helpers/otlp-sink';
import { agentConfig, connEvent, newSock, otlpGrpc, outboundLifecycle } from './fixtures';
import { KernelCounts } from '../../helpers/kernel-counts';

setLogSink(() => {});

test('a reloaded telemetry carries cumulative counters and open sockets over to its new exporters', async () => {
  const before = await OtlpSink.start();
  const after = await OtlpSink.start();
  const first = createTelemetry(agentConfig({ exporters: [otlpGrpc(before.grpcEndpoint)], signals: ['metrics'] }));
  // One probe across the reload: the kernel keeps counting while the telemetry is replaced.
  const kernel = new KernelCounts();
  const open = newSock();
  const before1 = [
    ...Array.from({ length: 3 }, () => outboundLifecycle()).flat(),
    connEvent({ kind: 'state', sock: open, oldState: 'syn_sent', newState: 'established' }),
  ];
  for (const ev of kernel.collect(before1)) first.sinkFor('metrics').consume(ev);
  const carried = first.carryState();
  await first.shutdown();

  const second = createTelemetry(agentConfig({ exporters: [otlpGrpc(after.grpcEndpoint)], signals: ['metrics'] }), { carry: carried });
  const after1 = [...outboundLifecycle(), connEvent({ kind: 'close', sock: open, oldState: 'established', newState: 'closed' })];
  for (const ev of kernel.collect(after1)) second.sinkFor('metrics').consume(ev);
  await second.shutdown();

  assert.equal(before.sumOf(METRIC.CONNECTION_OPENED), 3);
  assert.equal(after.sumOf(METRIC.CONNECTION_OPENED), 4, 'the new exporter sees the counts from before the reload');
  assert.equal(before.sumOf(METRIC.CONNECTION_ACTIVE, { 'network.connection.state': 'established' }), 1);
  assert.equal(after.sumOf(METRIC.CONNECTION_ACTIVE, { 'network.connection.state': 'established' }), 0, 'a socket opened before the reload closes after it');
  await before.stop();
  await after.stop();
});
