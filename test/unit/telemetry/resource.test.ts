// service.instance.id: a UUID v5 (the conventions' namespace) of machine, boot and process, the same
// for one process whatever reloads it sees, and overridable by the configuration.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildResource, processStartTicks, SERVICE_INSTANCE_NAMESPACE, serviceInstanceId, uuidV5 } from '../../../src/telemetry/resource';

const dir = mkdtempSync(join(tmpdir(), 'netwatch-resource-'));
const file = (name: string, text: string): string => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};
const telemetry = (resource: Record<string, string> = {}) =>
  ({
    logs: { level: 'info' },
    metrics: { export_interval_ms: 1000, cardinality_limit: 10, export_timeout_ms: 1000 },
    sdk_disabled: false,
    sdk_log_level: 'warn',
    resource,
  }) as const;

test('UUID v5 is RFC 9562 name-based SHA-1 (the RFC example: www.example.com in the DNS namespace)', () => {
  assert.equal(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com'), '2ed6657d-e927-568b-95e1-2665a8aea6a2');
});

test('the process start time is read after the comm, whatever spaces and parentheses the comm holds', () => {
  const fields = ['S', ...Array.from({ length: 18 }, (_, i) => String(i + 4)), '987654', '0'];
  assert.equal(processStartTicks(file('stat', `4242 (a (b) c) ${fields.join(' ')}\n`)), '987654');
  assert.equal(processStartTicks(file('stat-bad', 'garbage')), undefined);
});

test('service.instance.id is a UUID v5 of machine id, boot id, pid and start time: one per process start, the same across reloads', () => {
  const src = {
    machineIdPath: file('machine-id', 'm\n'),
    bootIdPath: file('boot_id', 'b\n'),
    statPath: file('stat2', `42 (netwatch) S ${'1 '.repeat(18)}1234 0`),
    pid: 42,
  };
  const id = serviceInstanceId(src);
  assert.equal(id, uuidV5(SERVICE_INSTANCE_NAMESPACE, 'm:b:42:1234'));
  assert.equal(serviceInstanceId(src), id, 'the same process gets the same id again (a reload builds the resource anew)');
  assert.notEqual(serviceInstanceId({ ...src, pid: 43 }), id, 'another process');
  assert.notEqual(serviceInstanceId({ ...src, bootIdPath: file('boot_id2', 'c') }), id, 'after a reboot');
  assert.match(serviceInstanceId(), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'this process, from /proc');
});

test('without /proc to read, the id is random but drawn once per process', () => {
  const missing = { bootIdPath: join(dir, 'nope'), statPath: join(dir, 'nope') };
  assert.equal(serviceInstanceId(missing), serviceInstanceId(missing));
});

test('the resource carries service.instance.id, which the configuration (and so OTEL_RESOURCE_ATTRIBUTES) may set', () => {
  assert.equal(buildResource(telemetry()).attributes['service.instance.id'], serviceInstanceId());
  assert.equal(buildResource(telemetry({ 'service.instance.id': 'edge-1' })).attributes['service.instance.id'], 'edge-1');
});
