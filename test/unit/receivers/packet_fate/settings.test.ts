import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PacketFateReceiverConfig } from '../../../../src/receivers/packet_fate/config';
import { fateKinds } from '../../../../src/receivers/packet_fate/settings';

const rc = (over: Partial<PacketFateReceiverConfig> = {}): PacketFateReceiverConfig => ({
  type: 'packet_fate',
  id: 'packet_fate',
  ring_buffer_size: 1 << 18,
  poll_interval_ms: 100,
  interval_ms: 10_000,
  sample_per_interval: 100,
  table_size: 16384,
  ignore_reasons: [],
  include: { process_pid: false },
  metrics: {},
  events: {},
  ...over,
});

test('by default every kind is hooked; drops and resets are sampled, retransmits (a verbose log event) are not', () => {
  const { kinds, sampled } = fateKinds(rc());
  assert.deepEqual([...kinds], ['drop', 'reset_sent', 'reset_received', 'retransmit']);
  assert.deepEqual([...sampled], ['drop', 'reset_sent', 'reset_received']);
});

test('a kind whose metric and log event are both off is not hooked', () => {
  const { kinds, sampled } = fateKinds(
    rc({ metrics: { 'netwatch.tcp.retransmits': { enabled: false } }, events: { 'netwatch.tcp.reset': { enabled: false } } }),
  );
  assert.deepEqual([...kinds], ['drop', 'reset_sent', 'reset_received']);
  assert.deepEqual([...sampled], ['drop']);
});

test('a log event alone hooks its kind, and sample_per_interval 0 samples nothing', () => {
  const only = fateKinds(rc({ metrics: { 'netwatch.tcp.retransmits': { enabled: false } }, events: { 'netwatch.tcp.retransmit': { enabled: true } } }));
  assert.ok(only.kinds.has('retransmit') && only.sampled.has('retransmit'));
  assert.deepEqual([...fateKinds(rc({ sample_per_interval: 0 })).sampled], []);
});
