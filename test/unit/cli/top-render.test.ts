// One frame of `netwatch top` from known summaries: every section shows its rows, lines fit the width.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderTop, type TopData } from '../../../src/cli/top-render';
import { summarizeConnections, summarizeSni } from '../../../src/server/summary';
import { connEvent, sniEvent } from '../pipeline/events';

const data = (): TopData => ({
  url: 'http://127.0.0.1:9465',
  since: '5m',
  filters: 'process=curl',
  health: {
    status: 'degraded',
    version: '1.2.3',
    uptime_s: 61.4,
    config: { generation: 2, source: 'agent.yaml' },
    events: { read: 100, lost: 7, decode_errors: 0 },
    receivers: { connections: { status: 'attached', events_lost: 7, error: null } },
    exporters: [{ id: 'otlp', signal: 'metrics', status: 'failing', last_error: { message: '14 UNAVAILABLE' } }],
  },
  connections: {
    ...summarizeConnections([
      connEvent({ sock: 1n, kind: 'close', newState: 'closed', error: 111 }),
      connEvent({
        sock: 2n,
        kind: 'state',
        newState: 'established',
        container: { cgroupPath: '/x', runtime: 'docker', id: '0123456789abcdef0123' },
        nomad: { allocId: 'a', task: 't', job: 'web' },
      }),
    ]),
    lost_events: { connections: 7 },
  },
  sni: summarizeSni([sniEvent({ serverName: 'app.example.com' }), sniEvent({ kind: 'syn', serverName: undefined })]),
});

test('a frame shows the header, every table and the exporter error', () => {
  const s = renderTop(data(), { width: 200, rows: 5, now: new Date(Date.UTC(2026, 0, 1, 12, 0, 5)), intervalText: '2s' });
  assert.match(s, /^netwatch 1\.2\.3 at http:\/\/127\.0\.0\.1:9465 \| degraded \| config generation 2 \| up 61s \| events read 100, lost 7$/m);
  assert.match(s, /^last 5m \(process=curl\): 2 connections \(1 open, 1 failed\), 2 events \| lost events: connections 7$/m);
  assert.match(s, /│ curl\s+│ 2\s+│ 1\s+│ 1\s+│ 2\s+│/);
  assert.match(s, /│ established │ 1\s+│/);
  assert.match(s, /│ ECONNREFUSED │ 1\s+│/);
  assert.match(s, /│ 0123456789ab │ 1/, 'container ids shortened to 12 characters, as docker ps shows them');
  assert.match(s, /│ web\s+│ 1/);
  assert.match(s, /SNI names \(1 ClientHellos, 0 without a name, 1 SYNs\)/);
  assert.match(s, /│ app\.example\.com │ 1\s+│ 443\s+│ 1\s+│/);
  assert.match(s, /^ {2}otlp: 14 UNAVAILABLE$/m);
  assert.match(s, /^q: quit \| refreshed 12:00:05 every 2s$/m);
});

test('no line is wider than the terminal', () => {
  const s = renderTop(data(), { width: 40, rows: 5, now: new Date(), intervalText: '2s' });
  assert.ok(
    s.split('\n').every((l) => [...l].length <= 40),
    s,
  );
});
