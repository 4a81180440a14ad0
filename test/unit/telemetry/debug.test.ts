import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ExporterConfig } from '../../../src/config/types';
import { errnoName } from '../../../src/wire/errno-names';
import { createTelemetry } from '../../../src/telemetry/sdk';
import { agentConfig, connEvent, newSock, outboundLifecycle } from './fixtures';
import { KernelCounts } from '../../helpers/kernel-counts';

const debug = (verbosity: 'basic' | 'normal' | 'detailed'): ExporterConfig => ({ type: 'debug', id: 'debug', verbosity });

test('the basic debug exporter prints one summary line per export: opened by process, open by state, failures, losses', async () => {
  const out: string[] = [];
  const t = createTelemetry(agentConfig({ exporters: [debug('basic')], signals: ['metrics'], intervalMs: 60_000 }), { debugWrite: (l) => out.push(l) });
  const kernel = new KernelCounts();
  const sock = newSock();
  const first = [
    ...Array.from({ length: 3 }, () => outboundLifecycle()).flat(),
    connEvent({ sock, kind: 'accept', direction: 'inbound', exe: 'nginx', process: { pid: 9, executableName: 'nginx', commandLine: '' } }),
    connEvent({ kind: 'close', oldState: 'syn_sent', error: 111 }),
  ];
  for (const ev of kernel.collect(first)) t.sinkFor('metrics').consume(ev);
  t.setStatsProvider(() => ({ probes: { conn: { read: 20, lost: 4, decodeErrors: 0 } } }));
  await t.forceFlush();
  assert.equal(out.length, 1, out.join('\n'));
  assert.equal(out[0], 'netwatch: 4 connections opened (curl 3, nginx 1) | 1 open (established 1) | 1 failed (ECONNREFUSED 1) | 4 events lost');
  // The next interval shows only what happened since.
  for (const ev of kernel.collect([connEvent()])) t.sinkFor('metrics').consume(ev);
  await t.forceFlush();
  assert.equal(out[1], 'netwatch: 1 connections opened (curl 1) | 1 open (established 1) | 0 failed | 0 events lost');
  await t.shutdown();
});

test('the normal debug exporter prints one line per log record with its event name', async () => {
  const out: string[] = [];
  const t = createTelemetry(agentConfig({ exporters: [debug('normal')], signals: ['logs'] }), { debugWrite: (l) => out.push(l) });
  t.sinkFor('logs').consume(connEvent());
  t.sinkFor('logs').consume(connEvent({ kind: 'accept', direction: 'inbound' }));
  await t.forceFlush();
  assert.equal(out.length, 2);
  assert.match(out[0], /^2023-11-14T22:13:20\.123Z INFO netwatch\.connection\.open curl connected to 10\.0\.0\.2:443 \(tcp\) /);
  assert.match(out[1], /netwatch\.connection\.accept/);
  await t.shutdown();
});

test('errno names cover the common network errors and fall back to E<n>', () => {
  assert.equal(errnoName(111), 'ECONNREFUSED');
  assert.equal(errnoName(110), 'ETIMEDOUT');
  assert.equal(errnoName(113), 'EHOSTUNREACH');
  assert.equal(errnoName(104), 'ECONNRESET');
  assert.equal(errnoName(4095), 'E4095');
});
