// nomad_autostart `hold_syn` on the real kernel: a client in a namespace made here connects with
// curl to a port of the host where nothing listens; the sni receiver's TC ingress program on the
// host-side veth drops its SYNs (the kernel would refuse them) while the Nomad API double's group
// is at 0 and while it wakes. The test plays the Nomad client that places the allocation: a real
// HTTP listener starts 1.5 s after the scale call, and curl's first attempt gets its answer. The
// held SYNs are checked exactly against the client namespace's own count of SYN retransmissions.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { startAgent, type RunningAgent } from '../../src/agent';
import { parseConfig } from '../../src/config';
import { sleep, until } from '../helpers/autostart';
import { createContainerNetns, sh, tcState, type ContainerNetns } from '../helpers/container-netns';
import { NO_DEPLOYMENTS, NomadDouble, type RecordedRequest } from '../helpers/nomad';
import { OtlpSink } from '../helpers/otlp-sink';

const HELD = 5480;
const TIMES_OUT = 5481;
const REFUSED = 5482;
/** The double's "allocation" listens this long after the scale call (a task takes time to bind). */
const PLACEMENT_MS = 1500;
const RULE = 'held';

let net: ContainerNetns;
let d: NomadDouble;
let sink: OtlpSink;
let agent: RunningAgent;
const servers: http.Server[] = [];

const posts = (job: string): RecordedRequest[] => d.requests().filter((r) => r.method === 'POST' && r.path === `/v1/job/${job}/scale`);

function agentYaml(): string {
  return `
receivers:
  sni:
    interfaces: [${net.hostIf}]
    ports: [${HELD}, ${TIMES_OUT}, ${REFUSED}]
    poll_interval: 5ms
processors:
  nomad_autostart:
    address: ${d.url}
    agent_host: e2e-host
    rules:
      - name: ${RULE}
        match: { syn_to_port: ${HELD} }
        job: web
        group: web
        wait_for: running
        hold_syn: true
      - name: never-listens
        match: { syn_to_port: ${TIMES_OUT} }
        job: batch
        group: g
        wait_for: none
        wait_timeout: 2s
        hold_syn: true
      - name: refused
        match: { syn_to_port: ${REFUSED} }
        job: refused
        group: g
        wait_for: none
        hold_syn: true
exporters:
  otlp:
    endpoint: http://${sink.grpcEndpoint}
service:
  pipelines:
    metrics:
      receivers: [sni]
      processors: [nomad_autostart]
      exporters: [otlp]
  telemetry:
    metrics:
      export_interval: 200ms
`;
}

/** The client namespace's SYN retransmissions (TcpExt TCPSynRetrans): what its TCP sent again. */
function synRetransmits(): number {
  const lines = sh('ip', 'netns', 'exec', net.ns, 'cat', '/proc/net/netstat').split('\n');
  const head = lines.find((l) => l.startsWith('TcpExt:'))!.split(/\s+/);
  const values = lines.filter((l) => l.startsWith('TcpExt:'))[1]!.split(/\s+/);
  return Number(values[head.indexOf('TCPSynRetrans')]);
}

interface CurlResult {
  code: number;
  body: string;
  connectS: number;
  elapsedMs: number;
}

/** curl from the client namespace, one attempt (no --retry), with the connect timeout the issue names. */
function curl(port: number): Promise<CurlResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      'ip',
      ['netns', 'exec', net.ns, 'curl', '-sS', '--connect-timeout', '15', '-w', '\n%{time_connect}', `http://${net.host4}:${port}/`],
      { encoding: 'utf8' },
      (err, stdout) => {
        const lines = stdout.split('\n');
        const connectS = Number(lines.pop());
        resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, body: lines.join('\n'), connectS, elapsedMs: Date.now() - started });
      },
    );
  });
}

function listen(port: number): Promise<void> {
  const s = http.createServer((_req, res) => res.end('woken'));
  servers.push(s);
  return new Promise((resolve) => s.listen(port, net.host4, resolve));
}

before(async () => {
  net = createContainerNetns('nwhs', 241);
  d = await NomadDouble.start({ pendingDelayMs: 50 });
  d.addJob({ ID: 'web', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'web', Count: 0 }] });
  d.addJob({ ID: 'batch', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'g', Count: 0 }] });
  d.addJob({ ID: 'refused', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'g', Count: 0 }] });
  sink = await OtlpSink.start();
  agent = await startAgent(parseConfig(agentYaml(), 'hold-syn.yaml', {}));
  // Warm state: the event stream's first line starts a read of every job; then the ports are armed at the next poll.
  await until(
    () => ['web', 'batch', 'refused'].every((j) => d.requests().some((r) => r.method === 'GET' && r.path === `/v1/job/${j}`)),
    'the reads of warm state',
    5000,
  );
  await sleep(500);
});

after(async () => {
  await agent?.stop();
  if (net) assert.deepEqual(tcState(net.hostIf), { clsact: false, ingress: [], egress: [] }, 'nothing of the agent left on the interface');
  for (const s of servers) s.close();
  await sink?.stop();
  await d?.stop();
  net?.remove();
});

describe('hold_syn on real traffic', () => {
  test("curl's first attempt reaches the listener the woken allocation starts 1.5 s after the scale call", async () => {
    const retransBefore = synRetransmits();
    const result = curl(HELD);
    await until(() => posts('web').length === 1, 'the scale call', 5000);
    const scaleAt = posts('web')[0]!.at;
    await sleep(Math.max(0, scaleAt + PLACEMENT_MS - Date.now()));
    await listen(HELD);
    const r = await result;
    assert.equal(r.code, 0, `curl succeeded on its first attempt (exit ${r.code})`);
    assert.equal(r.body, 'woken');
    assert.ok(r.connectS >= PLACEMENT_MS / 1000, `connected after the listener started (${r.connectS}s), so its SYN was held, not answered`);
    const retransmitted = synRetransmits() - retransBefore;
    assert.ok(retransmitted >= 1, 'the client retransmitted its SYN');
    // Every SYN but the one that found the listener was held: the first one and each retransmission before the last.
    await sink.waitFor(() => sink.sumOf('netwatch.nomad.autostart.held_syns', { 'netwatch.nomad.autostart.rule': RULE }) === retransmitted, 5000);
    const h = await (async () => {
      await sink.waitFor(() => sink.histogram('netwatch.nomad.autostart.syn_hold.duration', { 'netwatch.nomad.autostart.rule': RULE })?.count === 1, 5000);
      return sink.histogram('netwatch.nomad.autostart.syn_hold.duration', {
        'netwatch.nomad.autostart.rule': RULE,
        'netwatch.nomad.autostart.hold.outcome': 'listening',
      })!;
    })();
    assert.equal(h.count, 1);
    assert.ok(h.sum >= PLACEMENT_MS / 1000 && h.sum <= r.connectS + 0.1, `held from the first SYN until one found the listener (${h.sum}s)`);
    assert.equal(posts('web').length, 1, 'one scale call');
  });

  test('a hold whose wake never brings a listener ends at wait_timeout, and the kernel refuses again', async () => {
    const retransBefore = synRetransmits();
    const r = await curl(TIMES_OUT);
    assert.equal(r.code, 7, `curl could not connect (exit ${r.code}: refused, not timed out)`);
    assert.ok(r.elapsedMs >= 2000 && r.elapsedMs < 10_000, `refused after the 2 s hold, well before the 15 s connect timeout (${r.elapsedMs} ms)`);
    assert.equal(posts('batch').length, 1, 'the wake was one scale call');
    const retransmitted = synRetransmits() - retransBefore;
    await sink.waitFor(() => sink.sumOf('netwatch.nomad.autostart.held_syns', { 'netwatch.nomad.autostart.rule': 'never-listens' }) === retransmitted, 5000);
    await sink.waitFor(
      () =>
        sink.histogram('netwatch.nomad.autostart.syn_hold.duration', {
          'netwatch.nomad.autostart.rule': 'never-listens',
          'netwatch.nomad.autostart.hold.outcome': 'timeout',
        })?.count === 1,
      5000,
    );
    // The group is up now: the port stays unarmed, and a new client is refused at once.
    const again = await curl(TIMES_OUT);
    assert.equal(again.code, 7);
    assert.ok(again.elapsedMs < 1000, `refused at once (${again.elapsedMs} ms)`);
  });

  test('a wake Nomad refuses ends the hold at once: the next SYN is refused by the kernel', async () => {
    // A 4xx Nomad gives for the scale request (the answer of a validation the rule cannot fix).
    d.failNext(1, 400, 'invalid scale request', { method: 'POST', path: /^\/v1\/job\/refused\/scale$/ });
    const retransBefore = synRetransmits();
    const r = await curl(REFUSED);
    assert.equal(r.code, 7, `curl could not connect (exit ${r.code})`);
    assert.ok(r.elapsedMs >= 900 && r.elapsedMs < 2000, `refused at the first retransmission, 1 s after the held SYN (${r.elapsedMs} ms)`);
    assert.equal(synRetransmits() - retransBefore, 1);
    await sink.waitFor(() => sink.sumOf('netwatch.nomad.autostart.held_syns', { 'netwatch.nomad.autostart.rule': 'refused' }) === 1, 5000);
    await sink.waitFor(
      () =>
        sink.histogram('netwatch.nomad.autostart.syn_hold.duration', {
          'netwatch.nomad.autostart.rule': 'refused',
          'netwatch.nomad.autostart.hold.outcome': 'failed',
        })?.count === 1,
      5000,
    );
    assert.equal(d.job('refused')!.TaskGroups[0]!.Count, 0, 'nothing was written');
  });
});
