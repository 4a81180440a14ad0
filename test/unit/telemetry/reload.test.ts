import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setLogSink } from '../../../src/log';
import { METRIC } from '../../../src/catalogue/generated';
import { createTelemetry } from '../../../src/telemetry/sdk';
import { OtlpSink } from '../../helpers/otlp-sink';
import { agentConfig, connEvent, newSock, otlpGrpc, outboundLifecycle } from './fixtures';

setLogSink(() => {});

test('a reloaded telemetry carries cumulative counters and open sockets over to its new exporters', async () => {
  const before = await OtlpSink.start();
  const after = await OtlpSink.start();
  const first = createTelemetry(agentConfig({ exporters: [otlpGrpc(before.grpcEndpoint)], signals: ['metrics'] }));
  for (let i = 0; i < 3; i++) for (const ev of outboundLifecycle()) first.sinkFor('metrics').consume(ev);
  const open = newSock();
  first.sinkFor('metrics').consume(connEvent({ kind: 'state', sock: open, oldState: 'syn_sent', newState: 'established' }));
  const carried = first.carryState();
  await first.shutdown();

  const second = createTelemetry(agentConfig({ exporters: [otlpGrpc(after.grpcEndpoint)], signals: ['metrics'] }), { carry: carried });
  for (const ev of outboundLifecycle()) second.sinkFor('metrics').consume(ev);
  second.sinkFor('metrics').consume(connEvent({ kind: 'close', sock: open, oldState: 'established', newState: 'closed' }));
  await second.shutdown();

  assert.equal(before.sumOf(METRIC.CONNECTION_OPENED), 3);
  assert.equal(after.sumOf(METRIC.CONNECTION_OPENED), 4, 'the new exporter sees the counts from before the reload');
  assert.equal(before.sumOf(METRIC.CONNECTION_ACTIVE, { 'network.connection.state': 'established' }), 1);
  assert.equal(after.sumOf(METRIC.CONNECTION_ACTIVE, { 'network.connection.state': 'established' }), 0, 'a socket opened before the reload closes after it');
  await before.stop();
  await after.stop();
});
