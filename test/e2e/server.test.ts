// The agent's HTTP server under real traffic: curl connects to a loopback HTTP server in this
// process, and the health endpoints and the query API answer with exactly those connections.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { startAgent, type RunningAgent } from '../../src/agent';
import { parseConfig } from '../../src/config';
import { version } from '../../package.json';
import { containerCgroups } from '../helpers/cgroups';
import { OtlpSink } from '../helpers/otlp-sink';
import { freePort } from '../helpers/ports';
import { runTraffic, startTraffic, stopChild } from '../helpers/processes';

const N = 4;
const run = promisify(execFile);

let sink: OtlpSink;
let agent: RunningAgent;
let web: http.Server;
let webPort: number;
let api: string;
let trafficStart: string;

// Scopes made before the agent starts, so that its first walk of the cgroup tree indexes them
// (the enricher re-walks for unknown cgroup ids at most once a second).
const cgroups = containerCgroups('api', 'api');
const { dockerId, allocId, dockerDir, nomadDir } = cgroups;

const get = async (path: string): Promise<{ status: number; body: any }> => {
  const r = await fetch(api + path);
  return { status: r.status, body: await r.json() };
};

async function until<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`${what}: still ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  cgroups.make();
  sink = await OtlpSink.start();
  const serverPort = await freePort('127.0.0.1');
  const deadPort = await freePort('127.0.0.1');
  const yaml = `
receivers:
  connections:
    seed_existing: false
    include_self: true   # the web server the test queries about runs in the agent's own process
exporters:
  otlp/sink:
    endpoint: http://${sink.grpcEndpoint}
  otlp/nobody:
    endpoint: http://127.0.0.1:${deadPort}
service:
  server:
    enabled: true
    port: ${serverPort}
  pipelines:
    metrics:
      receivers: [connections]
      exporters: [otlp/sink, otlp/nobody]
  telemetry:
    metrics:
      export_interval: 300ms
`;
  agent = await startAgent(parseConfig(yaml, 'server-e2e.yaml', {}));
  api = agent.serverUrl()!;
  web = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  webPort = (web.address() as AddressInfo).port;
  trafficStart = new Date(Date.now() - 1).toISOString();
  for (let i = 0; i < N; i++) await run('curl', ['-s', '-o', '/dev/null', '--max-time', '5', `http://127.0.0.1:${webPort}/`]);
  await until(
    'curl closes in the window',
    () => get(`/api/v1/connections?process=curl&port=${webPort}&kind=close`),
    (r) => r.body.count >= N,
  );
  await until(
    'both exporters tried at least once',
    async () => agent.status().exporters,
    (e) => e.every((x) => x.exports > 0),
  );
});
after(async () => {
  await agent?.stop();
  await new Promise((r) => web?.close(r));
  await sink?.stop();
  // The servers have exited, so the scopes are empty and can go (deepest first).
  cgroups.remove();
});

describe('the health endpoints of a running agent', () => {
  test('/livez and /readyz answer 200 once the probe is attached', async () => {
    assert.deepEqual(await get('/livez'), { status: 200, body: { status: 'ok', reasons: [] } });
    assert.deepEqual(await get('/readyz'), { status: 200, body: { status: 'ready', reasons: [] } });
  });

  test('/health shows the attached probe with events read, each exporter with its state and last error, generation, uptime, version', async () => {
    const { status, body } = await get('/health');
    assert.equal(status, 200);
    assert.equal(body.status, 'degraded', 'one exporter cannot reach its collector');
    assert.equal(body.ready, true);
    assert.equal(body.version, version);
    assert.equal(body.config.generation, 1);
    assert.equal(body.config.source, 'server-e2e.yaml');
    assert.ok(body.uptime_s >= 0);
    const conn = body.receivers.connections;
    assert.equal(conn.status, 'attached');
    assert.ok(conn.events_read >= N * 4, `read ${conn.events_read}`);
    assert.equal(conn.events_lost, 0);
    assert.equal(body.events.read, conn.events_read);
    const bySink = body.exporters.find((e: any) => e.id === 'otlp/sink');
    assert.deepEqual([bySink.status, bySink.failures, bySink.last_error], ['ok', 0, null]);
    const dead = body.exporters.find((e: any) => e.id === 'otlp/nobody');
    assert.equal(dead.status, 'failing');
    assert.ok(dead.failures >= 1);
    assert.match(dead.last_error.message, /UNAVAILABLE|ECONNREFUSED|connect/i);
    assert.equal(body.window.connections.capacity, 10000);
  });
});

describe('the query API over real connections', () => {
  test('process=curl on the server port gives exactly N connects and N closes, each with the curl pid and wall-clock times', async () => {
    const connects = (await get(`/api/v1/connections?process=curl&port=${webPort}&kind=connect`)).body;
    const closes = (await get(`/api/v1/connections?process=curl&port=${webPort}&kind=close`)).body;
    assert.deepEqual([connects.count, closes.count], [N, N]);
    const before = Date.parse(trafficStart);
    for (const e of [...connects.events, ...closes.events]) {
      assert.equal(e.process.executable_name, 'curl');
      assert.equal(e.remote.port, webPort);
      assert.ok(e.time_unix_ms >= before - 1000 && e.time_unix_ms <= Date.now(), e.time);
      assert.equal(e.time, new Date(e.time_unix_ms).toISOString());
    }
    assert.equal(new Set(closes.events.map((e: any) => e.process.pid)).size, N, 'one curl process per connection');
  });

  test('the accepting side is this process: pid filter and inbound direction', async () => {
    const r = (await get(`/api/v1/connections?pid=${process.pid}&port=${webPort}&kind=accept&direction=inbound`)).body;
    assert.equal(r.count, N);
    assert.ok(r.events.every((e: any) => e.local.port === webPort && e.process.pid === process.pid));
  });

  test('peer and time filters', async () => {
    assert.equal((await get(`/api/v1/connections?process=curl&port=${webPort}&kind=connect&peer=127.0.0.0/8`)).body.count, N);
    assert.equal((await get(`/api/v1/connections?process=curl&port=${webPort}&peer=10.0.0.0/8`)).body.count, 0);
    assert.equal((await get(`/api/v1/connections?process=curl&port=${webPort}&kind=connect&since=${trafficStart}`)).body.count, N);
    assert.equal((await get(`/api/v1/connections?process=curl&port=${webPort}&until=${trafficStart}`)).body.count, 0);
    assert.equal((await get(`/api/v1/connections?process=curl&port=${webPort}&kind=connect&since=10m`)).body.count, N);
  });

  test('the summary counts N curl connections, all closed, and as many accepted by this process', async () => {
    const curl = (await get(`/api/v1/connections/summary?process=curl&port=${webPort}`)).body;
    assert.deepEqual([curl.connections, curl.open, curl.failed], [N, 0, 0]);
    assert.deepEqual(
      curl.by_process.map((p: any) => [p.name, p.connections]),
      [['curl', N]],
    );
    assert.deepEqual(curl.by_state, { closed: N });
    const inbound = (await get(`/api/v1/connections/summary?pid=${process.pid}&port=${webPort}&direction=inbound`)).body;
    assert.equal(inbound.connections, N);
    assert.deepEqual(inbound.lost_events, { connections: 0 });
  });

  test('a malformed filter is a 400 naming it', async () => {
    const r = await get('/api/v1/connections?pid=abc');
    assert.deepEqual([r.status, r.body.problems], [400, ['pid: must be a whole number, got "abc"']]);
  });
});

describe('the container and Nomad job filters over servers placed in a Docker scope and a Nomad allocation scope', () => {
  const K = 3;
  const ports: Record<string, number> = {};

  before(async () => {
    const nomadEnv = cgroups.nomadEnv({ job: 'nwt-shop', group: 'backend', namespace: 'default' });
    for (const [name, dir, env] of [
      ['docker', dockerDir, undefined],
      ['nomad', nomadDir, nomadEnv],
    ] as const) {
      const srv = await startTraffic(`nwt-api-${name}`, 'tcp-server', ['127.0.0.1'], { cgroupDir: dir, env });
      try {
        ports[name] = srv.info.port as number;
        await runTraffic('nwt-api-cli', 'tcp-clients', ['127.0.0.1', ports[name], K]);
        await until(
          `${name}: accepts in the window`,
          () => get(`/api/v1/connections?port=${ports[name]}&kind=close&direction=inbound`),
          (r) => r.body.count >= K,
        );
      } finally {
        await stopChild(srv);
      }
    }
  });
  test("container=<12-digit prefix> selects exactly the Docker-scoped server's connections", async () => {
    const r = (await get(`/api/v1/connections?container=${dockerId.slice(0, 12)}&kind=accept`)).body;
    const seen = (await get(`/api/v1/connections?port=${ports.docker}&direction=inbound`)).body.events.map(
      (e: any) => `${e.kind} pid=${e.process?.pid} cgroup=${e.container?.cgroup_path}`,
    );
    assert.equal(r.count, K, `inbound events on the port:\n${seen.join('\n')}`);
    assert.ok(r.events.every((e: any) => e.container.id === dockerId && e.container.runtime === 'docker' && e.local.port === ports.docker));
    const sum = (await get(`/api/v1/connections/summary?container=${dockerId.slice(0, 12)}`)).body;
    assert.deepEqual(
      sum.by_container.map((c: any) => [c.name, c.connections]),
      [[dockerId, K + 1]],
      'K accepted connections and the listener',
    );
  });

  test("nomad_job selects exactly the allocation's connections, with alloc id, task, group and namespace", async () => {
    const r = (await get('/api/v1/connections?nomad_job=nwt-shop&kind=accept')).body;
    assert.equal(r.count, K);
    assert.ok(
      r.events.every((e: any) => e.nomad.alloc_id === allocId && e.nomad.task === 'api' && e.nomad.group === 'backend' && e.local.port === ports.nomad),
    );
    const sum = (await get('/api/v1/connections/summary?nomad_job=nwt-*&direction=inbound')).body;
    assert.deepEqual(
      sum.by_nomad_job.map((j: any) => [j.name, j.connections]),
      [['nwt-shop', K]],
    );
    assert.equal((await get(`/api/v1/connections?nomad_job=nwt-shop&container=${dockerId.slice(0, 12)}`)).body.count, 0, 'filters combine with AND');
  });
});
