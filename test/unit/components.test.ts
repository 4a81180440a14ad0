// The component list is the one place a type is added: what is derived from it must match it, and
// reading it must not load any receiver's runtime half (libbpf, the SDK).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EXPORTERS, PROCESSORS, RECEIVERS } from '../../src/components';
import { EXPORTER_TYPES, METRICS_ONLY_EXPORTERS, PROCESSOR_TYPES, RECEIVER_TYPES } from '../../src/config/registry';

test('every factory sits under its own type', () => {
  for (const table of [RECEIVERS, PROCESSORS, EXPORTERS]) {
    for (const [key, f] of Object.entries(table)) assert.equal(f.type, key);
  }
});

test("the loader's tables are the factories' config halves, in the order the list gives", () => {
  assert.deepEqual(Object.keys(RECEIVER_TYPES), ['connections', 'sni', 'packet_fate']);
  for (const [type, f] of Object.entries(RECEIVERS)) assert.equal(RECEIVER_TYPES[type as keyof typeof RECEIVER_TYPES], f.config);
  for (const [type, f] of Object.entries(PROCESSORS)) assert.equal(PROCESSOR_TYPES[type as keyof typeof PROCESSOR_TYPES], f.config);
  for (const [type, f] of Object.entries(EXPORTERS)) assert.equal(EXPORTER_TYPES[type as keyof typeof EXPORTER_TYPES], f.config);
});

test('only exporters without a logs signal are metrics-only', () => {
  assert.deepEqual([...METRICS_ONLY_EXPORTERS], ['prometheus']);
});

test('reading the component list loads no receiver, probe, kernel binding or SDK', () => {
  const loaded = Object.keys(require.cache);
  const heavy = loaded
    .filter((p) => !p.endsWith('exporter-factories.js')) // config halves of the exporters
    .filter((p) => /[/\\](kernel|telemetry)[/\\]|receivers[/\\][^/\\]+[/\\](receiver|probe|metrics|logs)\.js$|koffi|sdk-metrics|sdk-logs/.test(p));
  assert.deepEqual(heavy, []);
});
