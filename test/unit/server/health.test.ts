// /livez, /readyz and /health from the agent's status: ready only when every probe is attached.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { baseStatus, NOW, startHarness, type Harness } from './harness';

let h: Harness;
before(async () => (h = await startHarness()));
after(() => h.stop());

test('/livez answers 200 in every phase', async () => {
  for (const phase of ['starting', 'running', 'stopping'] as const) {
    h.status.current = baseStatus({ phase });
    assert.deepEqual((await h.get('/livez')).body, { status: 'ok', reasons: [] });
  }
});

test('/readyz is 503 while starting, while a probe is not attached and while stopping, 200 when running', async () => {
  h.status.current = baseStatus({ phase: 'starting', receivers: { connections: { type: 'connections', state: 'starting', sinceUnixMs: NOW } } });
  assert.deepEqual(await h.get('/readyz').then((r) => [r.status, r.body.reasons]), [503, ['the agent is starting', 'receiver connections is starting']]);
  h.status.current = baseStatus({ receivers: { connections: { type: 'connections', state: 'failed', sinceUnixMs: NOW, error: 'bpf_prog_load: EPERM' } } });
  assert.deepEqual(await h.get('/readyz').then((r) => [r.status, r.body.reasons]), [503, ['receiver connections is failed: bpf_prog_load: EPERM']]);
  h.status.current = baseStatus({ phase: 'stopping' });
  assert.equal((await h.get('/readyz')).status, 503);
  h.status.current = baseStatus();
  assert.deepEqual(await h.get('/readyz').then((r) => [r.status, r.body.status]), [200, 'ready']);
});

test('/health reports probes, events, exporters with their last error, the config generation, uptime and version', async () => {
  h.status.current = baseStatus({
    generation: 3,
    lastReload: { timeUnixMs: NOW - 500, file: 'agent.yaml', applied: false, problems: ['receivers.connections.ring_buffer_size: must be a power of two'] },
    exporters: [
      {
        id: 'otlp',
        signal: 'metrics',
        endpoint: 'http://localhost:4317',
        state: 'failing',
        exports: 4,
        failures: 3,
        lastSuccessUnixMs: NOW - 60_000,
        lastError: { message: '14 UNAVAILABLE: No connection established', timeUnixMs: NOW - 100 },
      },
      { id: 'debug', signal: 'metrics', endpoint: 'stdout', state: 'ok', exports: 4, failures: 0, lastSuccessUnixMs: NOW - 100 },
    ],
  });
  const r = await h.get('/health');
  assert.equal(r.status, 200);
  const b = r.body;
  assert.equal(b.status, 'degraded', 'an exporter failing degrades, it does not make the agent unready');
  assert.deepEqual([b.ready, b.version, b.uptime_s, b.config.generation], [true, '9.9.9', 12.3, 3]);
  assert.deepEqual(b.config.last_reload, {
    time: new Date(NOW - 500).toISOString(),
    file: 'agent.yaml',
    applied: false,
    problems: ['receivers.connections.ring_buffer_size: must be a power of two'],
  });
  assert.deepEqual(b.receivers.connections, {
    type: 'connections',
    status: 'attached',
    since: new Date(NOW - 12_000).toISOString(),
    error: null,
    events_read: 10,
    events_lost: 2,
    decode_errors: 0,
  });
  assert.deepEqual(b.events, { read: 10, lost: 2, decode_errors: 0 });
  assert.deepEqual(b.exporters[0], {
    id: 'otlp',
    signal: 'metrics',
    endpoint: 'http://localhost:4317',
    status: 'failing',
    exports: 4,
    failures: 3,
    last_success: new Date(NOW - 60_000).toISOString(),
    last_error: { message: '14 UNAVAILABLE: No connection established', time: new Date(NOW - 100).toISOString() },
  });
});

test('the API is read-only: other methods are 405, unknown paths 404', async () => {
  const post = await fetch(`${h.url}/api/v1/connections`, { method: 'POST' });
  assert.deepEqual([post.status, post.headers.get('allow')], [405, 'GET, HEAD']);
  const del = await fetch(`${h.url}/health`, { method: 'DELETE' });
  assert.equal(del.status, 405);
  const none = await h.get('/api/v2/anything');
  assert.equal(none.status, 404);
  assert.match(none.body.problems[0], /^routes: \/livez, \/readyz, \/health, /);
});
