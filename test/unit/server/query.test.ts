// The query API over a window of synthetic events: each filter selects exactly the events it names.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ConnPipelineEvent } from '../../../src/pipeline/event';
import { connEvent, sniEvent } from '../pipeline/events';
import { NOW, startHarness, type Harness } from './harness';

let h: Harness;
let sock = 0x100n;

/** One outbound TCP connection's four records (state ones because the state_change log event is on), `agoMs` before NOW. */
function connection(agoMs: number, over: Partial<ConnPipelineEvent> = {}): ConnPipelineEvent[] {
  const s = (sock += 0x40n);
  const t = NOW - agoMs;
  const e = (o: Partial<ConnPipelineEvent>) => connEvent({ sock: s, timeUnixMs: t, ...over, ...o });
  return [
    e({ kind: 'connect' }),
    e({ kind: 'state', oldState: 'closed', newState: 'syn_sent' }),
    e({ kind: 'state', oldState: 'syn_sent', newState: 'established' }),
    e({ kind: 'close', oldState: 'established', newState: 'closed', bytesSent: 5, bytesReceived: 2 }),
  ];
}

before(async () => {
  h = await startHarness();
  const add = (evs: ConnPipelineEvent[]) => evs.forEach((ev) => h.store.add(ev));
  // curl: 3 connections to 443 (two 10 s ago, one 5 min ago); wget: 2 to 10.1.2.3:80 in a container of Nomad job web.
  add(connection(10_000, { exe: 'curl', pid: 100, process: { pid: 100, executableName: 'curl', commandLine: 'curl' } }));
  add(connection(10_000, { exe: 'curl', pid: 100, process: { pid: 100, executableName: 'curl', commandLine: 'curl' } }));
  add(connection(300_000, { exe: 'curl', pid: 101, process: { pid: 101, executableName: 'curl', commandLine: 'curl' } }));
  const web = {
    container: { cgroupPath: '/nomad.slice/x.scope', runtime: 'nomad' as const, id: '3f2a9c0b1d2e4f5a' },
    nomad: { allocId: 'a1', task: 'srv', job: 'web', namespace: 'default' },
  };
  add(connection(20_000, { exe: 'wget', pid: 200, remoteAddress: '10.1.2.3', remotePort: 80, ...web }));
  add(connection(20_000, { exe: 'wget', pid: 200, remoteAddress: '10.1.2.3', remotePort: 80, ...web }).slice(0, 3)); // still open
  // A server: one inbound connection accepted on port 8080 from 192.168.1.9.
  h.store.add(
    connEvent({
      sock: 0x9000n,
      kind: 'accept',
      direction: 'inbound',
      exe: 'nginx',
      pid: 300,
      localPort: 8080,
      remoteAddress: '192.168.1.9',
      remotePort: 51000,
      newState: 'established',
      timeUnixMs: NOW - 1000,
    }),
  );
  // A refused connect.
  h.store.add(
    connEvent({
      sock: 0x9100n,
      kind: 'close',
      exe: 'curl',
      pid: 102,
      remotePort: 1,
      oldState: 'syn_sent',
      newState: 'closed',
      error: 111,
      timeUnixMs: NOW - 2000,
    }),
  );
  // SNI: two hellos for app.example.com, one for db.internal on 5432, one without a name, one SYN to 5432.
  h.store.add(sniEvent({ serverName: 'app.example.com', timeUnixMs: NOW - 3000 }));
  h.store.add(sniEvent({ serverName: 'app.example.com', clientAddress: '10.0.0.3', timeUnixMs: NOW - 2500, ech: true }));
  h.store.add(
    sniEvent({
      serverName: 'db.internal',
      serverPort: 5432,
      pid: 400,
      process: { pid: 400, executableName: 'psql', commandLine: 'psql' },
      timeUnixMs: NOW - 2000,
    }),
  );
  h.store.add(sniEvent({ serverName: undefined, timeUnixMs: NOW - 1500 }));
  h.store.add(sniEvent({ kind: 'syn', serverName: undefined, serverPort: 5432, alpn: [], versions: [], timeUnixMs: NOW - 1000 }));
});
after(() => h.stop());

const kinds = (body: any) => body.events.map((e: any) => e.kind);

describe('GET /api/v1/connections', () => {
  test('returns the events last received first, with wall-clock times, up to the default limit', async () => {
    const r = await h.get('/api/v1/connections');
    assert.equal(r.status, 200);
    assert.equal(r.body.count, 4 * 4 + 3 + 2);
    assert.equal(r.body.truncated, false);
    assert.deepEqual(
      r.body.events.slice(0, 2).map((e: any) => [e.kind, e.process.executable_name, e.time]),
      [
        ['close', 'curl', new Date(NOW - 2000).toISOString()],
        ['accept', 'nginx', new Date(NOW - 1000).toISOString()],
      ],
    );
  });

  test('process=curl returns only curl events, and since=60s only the recent ones', async () => {
    assert.equal((await h.get('/api/v1/connections?process=curl')).body.count, 3 * 4 + 1);
    const recent = await h.get('/api/v1/connections?process=curl&since=60s');
    assert.equal(recent.body.count, 2 * 4 + 1);
    assert.ok(recent.body.events.every((e: any) => e.process.executable_name === 'curl' && e.time_unix_ms >= NOW - 60_000));
  });

  test('pid, port, peer (an address or a CIDR), container prefix and nomad_job select exactly their events', async () => {
    assert.equal((await h.get('/api/v1/connections?pid=101')).body.count, 4);
    assert.equal((await h.get('/api/v1/connections?port=80')).body.count, 7);
    assert.equal((await h.get('/api/v1/connections?port=8080')).body.count, 1, 'an inbound connection matches on its local (server) port');
    assert.equal((await h.get('/api/v1/connections?peer=10.1.2.3')).body.count, 7);
    assert.equal((await h.get('/api/v1/connections?peer=192.168.0.0/16')).body.count, 1);
    assert.equal((await h.get('/api/v1/connections?container=3f2a9c')).body.count, 7);
    assert.equal((await h.get('/api/v1/connections?nomad_job=web&kind=close')).body.count, 1);
    assert.equal((await h.get('/api/v1/connections?nomad_job=w*&state=established')).body.count, 2);
    assert.equal((await h.get('/api/v1/connections?direction=inbound')).body.count, 1);
  });

  test('limit caps the answer and says it was truncated', async () => {
    const r = await h.get('/api/v1/connections?limit=3');
    assert.deepEqual([r.body.count, r.body.truncated], [3, true]);
  });

  test('a refused connection carries its error name', async () => {
    const r = await h.get('/api/v1/connections?port=1');
    assert.deepEqual(
      r.body.events.map((e: any) => e.error),
      ['ECONNREFUSED'],
    );
  });

  test('unknown and malformed parameters are a 400 naming each one', async () => {
    const r = await h.get('/api/v1/connections?proces=curl&port=99999&since=yesterday');
    assert.equal(r.status, 400);
    assert.deepEqual(r.body.problems, [
      'proces: unknown parameter; this route takes pid, process, container, nomad_job, port, peer, direction, since, until, transport, kind, state, limit',
      'port: must be port numbers from 1 to 65535, separated by commas; got "99999"',
      'since: must be a duration back from now such as 60s or 5m, or an RFC 3339 time such as 2026-01-02T15:04:05Z; got "yesterday"',
    ]);
  });

  test('since and until also take RFC 3339 times', async () => {
    const from = new Date(NOW - 25_000).toISOString();
    const to = new Date(NOW - 5_000).toISOString();
    assert.equal((await h.get(`/api/v1/connections?since=${from}&until=${to}`)).body.count, 2 * 4 + 4 + 3);
  });
});

describe('GET /api/v1/connections/summary', () => {
  test('counts connections (not events) per process, container, Nomad job and latest state', async () => {
    const r = await h.get('/api/v1/connections/summary');
    assert.equal(r.status, 200);
    const b = r.body;
    assert.deepEqual([b.events, b.connections, b.open, b.failed], [21, 7, 2, 1]);
    assert.deepEqual(b.by_state, { closed: 5, established: 2 });
    assert.deepEqual(
      b.by_process.map((p: any) => [p.name, p.connections, p.open, p.failed]),
      [
        ['curl', 4, 0, 1],
        ['wget', 2, 1, 0],
        ['nginx', 1, 1, 0],
      ],
    );
    assert.deepEqual(
      b.by_container.map((p: any) => [p.name, p.connections]),
      [['3f2a9c0b1d2e4f5a', 2]],
    );
    assert.deepEqual(
      b.by_nomad_job.map((p: any) => [p.name, p.connections, p.open]),
      [['web', 2, 1]],
    );
    assert.deepEqual(b.failures, { ECONNREFUSED: 1 });
    assert.deepEqual(b.lost_events, { connections: 2 });
  });

  test('takes the same filters as the event list', async () => {
    const b = (await h.get('/api/v1/connections/summary?process=curl&since=60s')).body;
    assert.deepEqual([b.connections, b.by_process.length], [3, 1]);
  });
});

describe('GET /api/v1/sni', () => {
  test('returns SNI events with their server names, last received first', async () => {
    const r = await h.get('/api/v1/sni');
    assert.equal(r.status, 200);
    assert.deepEqual(kinds(r.body), ['syn', 'client_hello', 'client_hello', 'client_hello', 'client_hello']);
    assert.deepEqual(
      r.body.events.map((e: any) => e.server_name),
      [null, null, 'db.internal', 'app.example.com', 'app.example.com'],
    );
    assert.deepEqual(r.body.events[3].tls_versions, ['0x0304']);
  });

  test('server_name takes wildcards, case-insensitively; port and process filter as for connections', async () => {
    assert.equal((await h.get('/api/v1/sni?server_name=*.EXAMPLE.com')).body.count, 2);
    assert.equal((await h.get('/api/v1/sni?port=5432')).body.count, 2);
    assert.equal((await h.get('/api/v1/sni?port=5432&kind=client_hello')).body.count, 1);
    assert.equal((await h.get('/api/v1/sni?process=psql')).body.count, 1);
    assert.equal((await h.get('/api/v1/sni?peer=93.184.216.34')).body.count, 5, 'egress: the peer is the server');
  });

  test('the summary counts hellos per name with ports and distinct clients, and SYNs per port', async () => {
    const b = (await h.get('/api/v1/sni/summary')).body;
    assert.deepEqual([b.events, b.client_hellos, b.syns, b.without_name], [5, 4, 1, 1]);
    assert.deepEqual(b.by_server_name, [
      { server_name: 'app.example.com', hellos: 2, ports: [443], clients: 2, ech: 1 },
      { server_name: 'db.internal', hellos: 1, ports: [5432], clients: 1, ech: 0 },
    ]);
    assert.deepEqual(b.syns_by_port, { 5432: 1 });
  });
});

test('two connections on one reused socket address to the same peer are counted as two', async () => {
  const { summarizeConnections } = await import('../../../src/server/summary');
  const one = (t: number) => [
    connEvent({ sock: 0x77n, kind: 'connect', timeUnixMs: t }),
    connEvent({ sock: 0x77n, kind: 'state', oldState: 'syn_sent', newState: 'established', timeUnixMs: t }),
    connEvent({ sock: 0x77n, kind: 'close', oldState: 'established', newState: 'closed', timeUnixMs: t }),
  ];
  const newestFirst = [...one(1), ...one(2), ...one(3)].reverse();
  assert.deepEqual([summarizeConnections(newestFirst).connections, summarizeConnections(newestFirst.slice(0, 5)).connections], [3, 2]);
});

test('the executable shown is the one the kernel recorded, else the one /proc showed, never the thread comm', async () => {
  const { connectionView, sniView } = await import('../../../src/server/views');
  const fromProc = { pid: 7, executableName: 'java', commandLine: 'java -jar app.jar' };
  assert.deepEqual(
    [
      connectionView(connEvent({ exe: 'curl', pid: 7, process: undefined })).process?.executable_name,
      connectionView(connEvent({ exe: '', pid: 7, process: fromProc })).process?.executable_name,
      connectionView(connEvent({ exe: '', pid: 7, process: undefined })).process?.executable_name,
      sniView(sniEvent({ pid: 7, process: fromProc })).process?.executable_name,
      sniView(sniEvent({ pid: 7, process: undefined })).process?.executable_name,
    ],
    ['curl', 'java', '', 'java', ''],
  );
});
