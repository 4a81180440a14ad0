// nomad_autostart across a cluster, on the real kernel: three agents, each the real CLI in a
// network namespace of its own watching that namespace's interface (as three client nodes would),
// one Nomad API double reached by all three over a Unix socket. The same burst of SYNs reaches the
// three nodes at once; Nomad's check-and-set lets exactly one count write through. Sleep is decided
// for the cluster: while one node still sees traffic the group stays up, and once every node is
// idle exactly one agent scales it to 0 (activity in Nomad Variables, a Variables lock).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Agent, request } from 'undici';
import { until } from '../helpers/autostart';
import { RunningCli } from '../helpers/cli';
import { createContainerNetns, type ContainerNetns } from '../helpers/container-netns';
import { NO_DEPLOYMENTS, NomadDouble, type RecordedRequest } from '../helpers/nomad';
import { connectRefused } from '../helpers/tls-clients';

const PORT = 5490;
const SLEEPY = 5491;
const IDLE_AFTER_MS = 3000;
const NODES = ['node-a', 'node-b', 'node-c'] as const;
/** What no agent may log while agents race for one wake: a conflict is news, not a failure. */
const ALARMING = /\b(WARN|ERROR)\s+\[netwatch/;

const dir = mkdtempSync(join(tmpdir(), 'nw-cluster-'));
const socket = join(dir, 'nomad.sock');
let d: NomadDouble;
const nets: ContainerNetns[] = [];
const agents: RunningCli[] = [];

const posts = (): RecordedRequest[] => d.requests().filter((r) => r.method === 'POST' && r.path === '/v1/job/web/scale');

function agentYaml(node: string, ifname: string): string {
  return `
receivers:
  sni:
    interfaces: [${ifname}]
    ports: [${PORT}, ${SLEEPY}]
    poll_interval: 5ms
processors:
  nomad_autostart:
    address: unix://${socket}
    agent_host: ${node}
    cluster:
      node: ${node}
      grace: 500ms
    rules:
      - name: web
        match: { syn_to_port: ${PORT} }
        job: web
        group: web
        wait_for: none
      - name: sleepy
        match: { syn_to_port: ${SLEEPY} }
        job: sleepy
        group: g
        wait_for: none
        idle_after: ${IDLE_AFTER_MS}ms
exporters:
  debug:
    verbosity: basic
service:
  pipelines:
    logs:
      receivers: [sni]
      processors: [nomad_autostart]
      exporters: [debug]
`;
}

/** GET over the double's Unix socket, as the agents reach it. */
async function nomadGet(path: string): Promise<any> {
  const dispatcher = new Agent({ connect: { socketPath: socket } });
  try {
    const r = await request(`http://nomad${path}`, { dispatcher });
    return await r.body.json();
  } finally {
    await dispatcher.close();
  }
}

before(async () => {
  d = await NomadDouble.start({ unixSocket: socket, pendingDelayMs: 20 });
  d.addJob({ ID: 'web', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'web', Count: 0 }] });
  d.addJob({ ID: 'sleepy', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'g', Count: 0 }] });
  for (const [i, node] of NODES.entries()) {
    const net = createContainerNetns(`nwk${i}`, 243 + i);
    nets.push(net);
    const file = join(dir, `${node}.yaml`);
    writeFileSync(file, agentYaml(node, net.nsIf));
    agents.push(RunningCli.start(['run', '-c', file], { netns: net.ns }));
  }
  for (const a of agents) await a.waitFor(/running/);
  // Warm state in every agent: each one's event stream read the job after connecting.
  await until(
    () => ['web', 'sleepy'].every((j) => d.requests().filter((r) => r.method === 'GET' && r.path === `/v1/job/${j}`).length >= NODES.length),
    'three warm reads of each job',
    10_000,
  );
});

after(async () => {
  for (const a of agents) await a.stop();
  await d?.stop();
  for (const n of nets) n.remove();
  rmSync(dir, { recursive: true, force: true });
});

describe('three agents, one Nomad', () => {
  test('the same burst seen by three nodes makes exactly one count write; the others end as already awake, quietly', async () => {
    // The double holds the scale requests until all three agents have sent theirs, then lets the last one in first.
    const held = d.barrier({ method: 'POST', path: /^\/v1\/job\/web\/scale$/ }, NODES.length, { order: [2, 0, 1] });
    // One SYN to each node at once (nothing listens: each is refused), as a client retrying across nodes would.
    const refused = await Promise.all(nets.map((n) => connectRefused(n.ns4, PORT)));
    assert.deepEqual(refused, ['ECONNREFUSED', 'ECONNREFUSED', 'ECONNREFUSED']);
    const writes3 = await held;
    const first = (writes3[2]!.body as { Meta: Record<string, string> }).Meta['netwatch.agent.host'];
    // The two refused by the check-and-set read the job again (their warm state was stale) and find it up.
    const reads = (): number => d.requests().filter((r) => r.method === 'GET' && r.path === '/v1/job/web').length;
    await until(() => reads() >= NODES.length * 2 - 1, 'the two losers read the job again', 5000);
    await new Promise((r) => setTimeout(r, 300));
    const status = await nomadGet('/v1/job/web/scale');
    const writes = (status.TaskGroups.web.Events as { Count: number | null; Meta: Record<string, string> }[]).filter((e) => e.Count !== null);
    assert.equal(writes.length, 1, 'one count change in the scaling history');
    assert.equal(status.TaskGroups.web.Desired, 1);
    const writer = writes[0]!.Meta['netwatch.agent.host'];
    assert.equal(writer, first, 'the write let in first is the one in the history');
    // Every agent that sent a write sent it with the same token: the losers were refused by the check-and-set, not by luck.
    const tokens = new Set(posts().map((p) => (p.body as { JobModifyIndex?: number }).JobModifyIndex));
    assert.equal(tokens.size, 1, `one JobModifyIndex for every write (${[...tokens].join(', ')})`);
    assert.equal(posts().length, NODES.length, 'every agent sent its write: they interleaved');
    const scaledLines = agents.map((a) => (a.output.match(/wake default\/web\/web: scaled/g) ?? []).length);
    assert.deepEqual(
      scaledLines.slice().sort(),
      [0, 0, 1],
      `exactly one agent logs the wake (${scaledLines.join(', ')}); the others end already_scaled, which logs nothing`,
    );
    assert.equal(
      agents[NODES.indexOf(writer as (typeof NODES)[number])]!.output.match(/wake default\/web\/web: scaled/g)?.length,
      1,
      'the writer in the history is the one that logged',
    );
    for (const [i, a] of agents.entries()) assert.doesNotMatch(a.output, ALARMING, `${NODES[i]} logged nothing alarming:\n${a.output}`);
  });

  test('a group stays up while node B still serves it after A, the waker, went idle; once every node is idle exactly one agent scales it to 0', async () => {
    const [a, b] = nets as [ContainerNetns, ContainerNetns];
    const scaleDowns = (): RecordedRequest[] =>
      d.requests().filter((r) => r.method === 'POST' && r.path === '/v1/job/sleepy/scale' && (r.body as { Count: number | null }).Count === 0);
    assert.equal(await connectRefused(a.ns4, SLEEPY), 'ECONNREFUSED');
    await until(() => d.job('sleepy')!.TaskGroups[0]!.Count === 1, 'A wakes the group', 5000);
    const wokeAt = Date.now();
    // B keeps seeing traffic, one connection attempt a second, until twice A's idle window has passed.
    let lastOnB = 0;
    while (Date.now() - wokeAt < 2 * IDLE_AFTER_MS) {
      assert.equal(await connectRefused(b.ns4, SLEEPY), 'ECONNREFUSED');
      lastOnB = Date.now();
      await new Promise((r) => setTimeout(r, 1000));
    }
    assert.deepEqual(scaleDowns(), [], 'no scale-down while B still saw traffic, though A had been idle for its whole window');
    assert.equal(d.job('sleepy')!.TaskGroups[0]!.Count, 1);
    const sleeper = await (async () => {
      await until(() => d.job('sleepy')!.TaskGroups[0]!.Count === 0, 'the group put to sleep once every node is idle', 4 * IDLE_AFTER_MS);
      return (scaleDowns()[0]!.body as { Meta: Record<string, string> }).Meta['netwatch.agent.host'];
    })();
    assert.ok(scaleDowns()[0]!.at - lastOnB >= IDLE_AFTER_MS, 'not before B had been idle for its window');
    await new Promise((r) => setTimeout(r, IDLE_AFTER_MS)); // any second sleeper would have acted by now
    assert.equal(scaleDowns().length, 1, `exactly one scale to 0 (by ${sleeper})`);
    const status = await nomadGet('/v1/job/sleepy/scale');
    const counts = (status.TaskGroups.g.Events as { Count: number | null }[]).filter((e) => e.Count !== null).map((e) => e.Count);
    assert.deepEqual(counts, [0, 1], 'the history: one wake, one sleep');
    for (const [i, ag] of agents.entries()) assert.doesNotMatch(ag.output, ALARMING, `${NODES[i]} logged nothing alarming:\n${ag.output}`);
  });
});
