// nomad_autostart decides sleep for the cluster: several agents (one per node, each its own
// processor, all against one Nomad double) publish their activity in Nomad Variables, and a group
// goes back to 0 only when every node is idle, scaled down once, by whichever agent holds the
// group's lock. Short durations: idle_after in hundreds of ms, the double's lock clock sped up
// where a lock must lapse.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { NO_DEPLOYMENTS, NomadDouble, rawCall, type NomadDoubleOptions } from '../../helpers/nomad';
import {
  captureLog,
  captureTelemetry,
  sleep,
  startAutostart,
  until,
  type AutostartRig,
  type CapturedLog,
  type CapturedTelemetry,
} from '../../helpers/autostart';
import { connEvent } from '../pipeline/events';

const SCALE = '/v1/job/db/scale';
const ITEM = 'default/db/db';
const LOCK = 'nomad/jobs/netwatch/sleep/default/db/db';
const activity = (node: string): string => `nomad/jobs/netwatch/activity/${node}`;
const scaleDowns = (d: NomadDouble) => d.requests().filter((r) => r.method === 'POST' && r.path === SCALE && (r.body as any).Count === 0);

interface Options {
  idleAfter?: string;
  grace?: string;
  /** Lines added to the processor's settings. */
  extra?: string;
}

/** The agent on node-<n> (agent_host agent-<n>): a connect to 10.9.0.1:5432 wakes db/db. */
function agentYaml(n: string, o: Options = {}): string {
  return `    agent_host: agent-${n}
    retry: { initial: 20ms, max: 200ms, give_up_after: 5s }
    cluster: { node: node-${n}, grace: ${o.grace ?? '50ms'} }
${o.extra ?? ''}    rules:
      - name: db
        match: { connect_to: ["10.9.0.1:5432"] }
        job: db
        group: db
        wait_for: none
        cooldown: 10ms
        idle_after: ${o.idleAfter ?? '300ms'}
`;
}

let sock = 1000n;
/** A client on that node connecting to the database and closing again. */
function traffic(rig: AutostartRig): void {
  const s = ++sock;
  rig.dispatch(connEvent({ kind: 'connect', sock: s, remoteAddress: '10.9.0.1', remotePort: 5432 }));
  rig.dispatch(connEvent({ kind: 'close', sock: s, remoteAddress: '10.9.0.1', remotePort: 5432, oldState: 'established', newState: 'closed' }));
}

interface Agent {
  node: string;
  rig: AutostartRig;
  tel: CapturedTelemetry;
}

describe('nomad_autostart puts a group to sleep only when every node is idle', () => {
  let d: NomadDouble | undefined;
  const agents: Agent[] = [];
  let log: CapturedLog | undefined;
  afterEach(async () => {
    log?.restore();
    for (const a of agents.splice(0)) await a.rig.stop();
    await d?.stop();
    d = undefined;
  });

  async function start(nodes: string[], o: Options = {}, double: NomadDoubleOptions = {}): Promise<Agent[]> {
    d = await NomadDouble.start({ pendingDelayMs: 10, ...double });
    d.addJob({ ID: 'db', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'db', Count: 0 }] });
    log = captureLog();
    const out: Agent[] = [];
    for (const n of nodes) {
      const tel = captureTelemetry();
      const a = { node: `node-${n}`, rig: startAutostart(d, agentYaml(n, o), { context: tel.context }), tel };
      agents.push(a);
      out.push(a);
    }
    for (const a of out) {
      await a.rig.processor.ready();
      await a.rig.processor.settled();
    }
    await until(() => out.every((a) => d!.variable(activity(a.node)) !== undefined), 'every node publishing');
    return out;
  }

  const count = (): number => d!.job('db')!.TaskGroups[0].Count;
  const deferrals = (x: Agent, reason: string): number =>
    x.tel.sum('netwatch.nomad.autostart.sleep_deferrals', { 'netwatch.nomad.autostart.deferral_reason': reason });
  const outcomes = (what: string): number =>
    agents.reduce((n, a) => n + a.tel.sum('netwatch.nomad.autostart.sleeps', { 'netwatch.nomad.autostart.outcome': what }), 0);

  it('keeps the group up while node B has traffic though A, which woke it, is idle; once B is idle too, one agent scales it to 0', async () => {
    const [a, b] = await start(['a', 'b'], { idleAfter: '600ms' });
    traffic(a.rig);
    await a.rig.processor.settled();
    assert.equal(count(), 1, 'A woke it');
    const until2400 = Date.now() + 2400;
    while (Date.now() < until2400) {
      traffic(b.rig);
      await sleep(100);
    }
    assert.equal(scaleDowns(d!).length, 0, 'four idle periods of A while B has traffic: still up');
    assert.equal(d!.variable(activity('node-a'))!.Items![ITEM], 'idle');
    assert.equal(d!.variable(activity('node-b'))!.Items![ITEM], 'active');
    assert.ok(
      d!.requests().some((r) => r.method === 'PUT' && r.path === `/v1/var/${LOCK}` && 'lock-acquire' in r.query),
      'A looked, under the lock',
    );
    assert.ok(deferrals(a, 'active_elsewhere') >= 1, 'each look of A found B active, and said so');
    assert.equal(deferrals(b, 'active_elsewhere'), 0, 'B, active, never looked');
    await until(() => scaleDowns(d!).length === 1, 'the scale-down once B is idle too', 3000);
    await sleep(700);
    for (const x of agents) await x.rig.processor.settled();
    assert.equal(scaleDowns(d!).length, 1, 'exactly one scale to 0');
    const wakes = (outcome: string) =>
      agents.reduce((n, x) => n + x.tel.sum('netwatch.nomad.autostart.wakes', { 'netwatch.nomad.autostart.outcome': outcome }), 0);
    assert.equal(wakes('scaled'), 1, "B's traffic found it up: one wake, by A");
    assert.ok(b.tel.sum('netwatch.nomad.autostart.wakes', { 'netwatch.nomad.autostart.outcome': 'already_scaled' }) >= 1);
    assert.equal(count(), 0);
    assert.equal(outcomes('scaled_down'), 1);
    assert.equal(d!.variable(LOCK)!.Lock, null, 'the lock released');
    assert.deepEqual([...log!.at('warn'), ...log!.at('error')], []);
  });

  it('three agents wake at once: one check-and-set goes through, the others conflict, find it up and track it as woken by the cluster', async () => {
    const nodes = await start(['a', 'b', 'c'], { idleAfter: '400ms' });
    // The three scale requests reach Nomad in the order c, a, b: c's wins, a's and b's carry a stale JobModifyIndex.
    const held = d!.barrier({ method: 'POST', path: /^\/v1\/job\/db\/scale$/ }, 3, {
      order: (arrived) => ['agent-c', 'agent-a', 'agent-b'].map((h) => arrived.findIndex((r) => (r.body as any).Meta['netwatch.agent.host'] === h)),
    });
    for (const x of nodes) traffic(x.rig);
    const writes = await held;
    assert.equal(new Set(writes.map((r) => (r.body as any).JobModifyIndex)).size, 1, 'all three from the same warm state');
    for (const x of nodes) await x.rig.processor.settled();
    const wakes = (x: Agent, outcome: string) => x.tel.sum('netwatch.nomad.autostart.wakes', { 'netwatch.nomad.autostart.outcome': outcome });
    assert.deepEqual(
      nodes.map((x) => [wakes(x, 'scaled'), wakes(x, 'already_scaled')]),
      [
        [0, 1],
        [0, 1],
        [1, 0],
      ],
      'c scaled it; a and b found it up',
    );
    assert.equal(count(), 1);
    for (const x of nodes) assert.equal([...x.rig.processor.targets.values()][0]!.state.kind, 'awake', `${x.node} tracks it for sleep`);
    assert.deepEqual([...log!.at('warn'), ...log!.at('error')], []);
    await until(() => count() === 0, 'the scale-down once all three are idle', 3000);
    await sleep(600);
    assert.equal(scaleDowns(d!).length, 1);
  });

  it('with three idle nodes, exactly one scales the group to 0', async () => {
    const nodes = await start(['a', 'b', 'c']);
    traffic(nodes[0].rig);
    await nodes[0].rig.processor.settled();
    traffic(nodes[1].rig);
    traffic(nodes[2].rig);
    await until(() => count() === 0, 'the scale-down', 3000);
    await sleep(700);
    for (const x of agents) await x.rig.processor.settled();
    assert.equal(scaleDowns(d!).length, 1);
    assert.equal(outcomes('scaled_down'), 1);
    const by = (scaleDowns(d!)[0].body as any).Meta['netwatch.agent.host'];
    assert.ok(['agent-a', 'agent-b', 'agent-c'].includes(by), by);
    assert.deepEqual([...log!.at('warn'), ...log!.at('error')], []);
  });

  it('a node that sees traffic during the grace vetoes: its "active" is what the second read finds', async () => {
    const [a, c] = await start(['a', 'c'], { idleAfter: '1s', grace: '500ms' });
    traffic(a.rig);
    await a.rig.processor.settled();
    // A woke it and is the only one tracking it: A is the sleeper. Once it has read every node's activity, C sees traffic.
    await until(() => d!.variable(LOCK)?.Lock != null, 'A holding the lock', 3000);
    assert.equal(d!.variable(LOCK)!.Items!.holder, 'node-a');
    const acquired = d!
      .requests()
      .filter((r) => r.path === `/v1/var/${LOCK}` && 'lock-acquire' in r.query)
      .at(-1)!.at;
    const listings = () => d!.requests().filter((r) => r.method === 'GET' && r.path === '/v1/vars' && r.at >= acquired);
    const readsOfC = () => d!.requests().filter((r) => r.method === 'GET' && r.path === `/v1/var/${activity('node-c')}` && r.at >= acquired);
    await until(() => listings().length === 1, "A's first read of the nodes' activity", 1000);
    // C published "idle" at start and nothing since: older than the window, it is not even read.
    assert.equal(readsOfC().length, 0);
    traffic(c.rig);
    await until(() => d!.variable(LOCK)?.Lock === null, 'the lock released', 1000);
    assert.equal(scaleDowns(d!).length, 0, 'vetoed');
    assert.equal(count(), 1);
    assert.equal(deferrals(a, 'active_elsewhere'), 1, "the veto, as A's deferral");
    const vetoAt = d!.requests().find((r) => r.method === 'PUT' && r.path === `/v1/var/${activity('node-c')}` && r.at >= acquired)!.at;
    assert.ok(
      readsOfC().some((r) => r.at > vetoAt),
      'read again after the grace, and found the veto',
    );
    await until(() => scaleDowns(d!).length === 1, 'the scale-down once C is idle too', 3000);
    await sleep(500);
    assert.equal(scaleDowns(d!).length, 1);
    assert.deepEqual([...log!.at('warn'), ...log!.at('error')], []);
  });

  it('while another holds the lock nobody scales the group down; once the lock lapses (2 × TTL, then LockDelay), one does', async () => {
    // The double's lock clock 50 × faster: TTL 10s lapses after 400 ms, LockDelay 10s 200 ms later.
    const [a] = await start(['a'], {}, { server: { lockTimeScale: 50 } });
    const held = await rawCall(d!.url, 'PUT', `/v1/var/${LOCK}?lock-acquire`, {
      body: { Items: { holder: 'crashed' }, Lock: { TTL: '10s', LockDelay: '10s' } },
    });
    assert.equal(held.status, 200, held.text);
    const heldAt = Date.now();
    traffic(a.rig);
    await a.rig.processor.settled();
    await until(() => scaleDowns(d!).length === 1, 'the scale-down after the lock lapsed', 3000);
    const waited = scaleDowns(d!)[0].at - heldAt;
    assert.ok(waited >= 580, `scaled down ${waited} ms after the other took the lock`);
    // Only the last of A's tries can have got the lock (nobody else is there to veto): the ones before were refused.
    const tries = d!.requests().filter((r) => r.path === `/v1/var/${LOCK}` && 'lock-acquire' in r.query && (r.body as any).Items?.holder === 'node-a');
    assert.ok(tries.length >= 2, `tried while it was held, and again (${tries.length} tries)`);
    assert.equal(deferrals(a, 'lock_held'), tries.length - 1, 'every refused try counted as lock_held');
    assert.deepEqual([...log!.at('warn'), ...log!.at('error')], []);
  });

  it("ages out the 'active' of a node that stopped publishing: counted until the group's idle window has passed since it last wrote", async () => {
    const [a] = await start(['a']);
    const gone = activity('node-gone');
    let index = 0;
    const publish = async (): Promise<void> => {
      const r = await rawCall(d!.url, 'PUT', `/v1/var/${gone}?cas=${index}`, { body: { Items: { [ITEM]: 'active' } } });
      assert.equal(r.status, 200, r.text);
      index = r.json().ModifyIndex;
    };
    await publish();
    traffic(a.rig);
    await a.rig.processor.settled();
    const until800 = Date.now() + 800;
    while (Date.now() < until800) {
      await publish();
      await sleep(50);
    }
    const lastWord = Date.now();
    assert.equal(scaleDowns(d!).length, 0, 'node-gone still says active');
    await until(() => scaleDowns(d!).length === 1, 'the scale-down once node-gone is stale', 3000);
    const after = scaleDowns(d!)[0].at - lastWord;
    assert.ok(after >= 290, `scaled down ${after} ms after node-gone's last word (idle_after 300ms)`);
  });

  it('publishes its activity with a check-and-set: at once on a change, at most every idle_after/4 while active, and again from what a 409 says', async () => {
    const [a] = await start(['a'], { idleAfter: '400ms' });
    const path = `/v1/var/${activity('node-a')}`;
    assert.deepEqual(d!.variable(activity('node-a'))!.Items, { 'netwatch.agent.host': 'agent-a', [ITEM]: 'idle' }, 'published at start');
    d!.clearRequests();
    const from = Date.now();
    while (Date.now() < from + 1000) {
      traffic(a.rig);
      await sleep(20);
    }
    const writes = d!.requests().filter((r) => r.method === 'PUT' && r.path === path);
    assert.ok(writes[0].at - from < 150, 'active at once, not at the next refresh');
    assert.deepEqual((writes[0].body as any).Items, { 'netwatch.agent.host': 'agent-a', [ITEM]: 'active' });
    const gaps = writes.slice(1).map((w, i) => w.at - writes[i].at);
    assert.ok(gaps.length >= 3 && gaps.length <= 11, `refreshed ${gaps.length} times in 1 s`);
    assert.ok(
      gaps.every((g) => g >= 95),
      `no closer than 100 ms apart: ${gaps.join(', ')}`,
    );
    for (let i = 1; i < writes.length; i++) assert.ok(Number(writes[i].query.cas) > Number(writes[i - 1].query.cas), 'each on the index the last one made');
    await until(() => d!.variable(activity('node-a'))!.Items![ITEM] === 'idle', 'idle once 400 ms passed', 2000);
    // Someone else writes this node's variable: the next write conflicts and goes again from the index the 409 carries.
    const hand = await rawCall(d!.url, 'PUT', path, { body: { Items: { written: 'by hand' } } });
    assert.equal(hand.status, 200);
    d!.clearRequests();
    traffic(a.rig);
    await until(() => d!.variable(activity('node-a'))!.Items![ITEM] === 'active', 'active again', 2000);
    const again = d!.requests().filter((r) => r.method === 'PUT' && r.path === path);
    assert.equal(again.length, 2, 'the write that conflicted, and the one after it');
    assert.equal(Number(again[1].query.cas), hand.json().ModifyIndex);
    assert.deepEqual(d!.variable(activity('node-a'))!.Items, { 'netwatch.agent.host': 'agent-a', [ITEM]: 'active' });
  });

  it('after a restart, the group its variable calls active stays active for one more idle window: the agent before saw traffic this one has not', async () => {
    d = await NomadDouble.start({ pendingDelayMs: 10 });
    d.addJob({ ID: 'db', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'db', Count: 0 }] });
    const seeded = await rawCall(d.url, 'PUT', `/v1/var/${activity('node-a')}?cas=0`, { body: { Items: { [ITEM]: 'active' } } });
    assert.equal(seeded.status, 200);
    log = captureLog();
    const startedAt = Date.now();
    const rig = startAutostart(d, agentYaml('a', { idleAfter: '400ms' }));
    agents.push({ node: 'node-a', rig, tel: captureTelemetry() });
    await until(() => d!.variable(activity('node-a'))!.Items!['netwatch.agent.host'] === 'agent-a', 'its first write', 2000);
    assert.equal(d.variable(activity('node-a'))!.Items![ITEM], 'active', 'still active');
    await until(() => d!.variable(activity('node-a'))!.Items![ITEM] === 'idle', 'idle once the window passed', 2000);
    const idleAfter = Date.now() - startedAt;
    assert.ok(idleAfter >= 390, `idle after ${idleAfter} ms`);
  });

  it('an agent that did not wake the group tracks it too (woken by the cluster), and is the one to put it to sleep when the waker is gone', async () => {
    const [a, b] = await start(['a', 'b'], { idleAfter: '300ms' });
    traffic(a.rig);
    await a.rig.processor.settled();
    await a.rig.stop();
    agents.splice(agents.indexOf(a), 1);
    traffic(b.rig);
    await b.rig.processor.settled();
    await until(() => scaleDowns(d!).length === 1, 'the scale-down by B', 3000);
    assert.equal((scaleDowns(d!)[0].body as any).Meta['netwatch.agent.host'], 'agent-b');
    assert.equal(count(), 0);
  });
});

describe('without the Variables, each agent decides alone', () => {
  it('a token without a variables rule: reported once, naming the capability and the policy; the agent that woke the group puts it to sleep', async () => {
    const TOKEN = 'c0ffee00-NO-VARIABLES-0000-000000000001';
    const d = await NomadDouble.start({
      acl: true,
      pendingDelayMs: 10,
      tokens: [{ secretId: TOKEN, agent: 'read', rules: [{ namespace: 'default', capabilities: ['read-job', 'scale-job'] }] }],
    });
    d.addJob({ ID: 'db', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'db', Count: 0 }] });
    const log = captureLog();
    const rig = startAutostart(d, `    token: ${TOKEN}\n${agentYaml('a')}`);
    try {
      await rig.processor.ready();
      traffic(rig);
      await rig.processor.settled();
      assert.equal(d.job('db')!.TaskGroups[0].Count, 1);
      await until(() => d.job('db')!.TaskGroups[0].Count === 0, 'the scale-down, decided alone', 3000);
      // Asked again every retry.max (200ms), refused again, not said again.
      await until(() => d.requests().filter((r) => r.path.startsWith('/v1/var/')).length >= 3, 'asked again', 3000);
      const warned = log.at('warn');
      assert.equal(warned.length, 1, warned.join('\n'));
      assert.match(
        warned[0],
        /Nomad refused the variable read of variable nomad\/jobs\/netwatch\/activity\/node-a in namespace default \(403 Permission denied\): the token needs variables:read there, e\.g\. the policy namespace "default" \{ variables \{ path "nomad\/jobs\/netwatch\/\*" \{ capabilities = \["read", "write"\] \} \} \}\. Until then sleep is decided by each agent from its own traffic, and only the agent that woke a group puts it back to sleep; asked again every 200ms/,
      );
      assert.equal(d.requests().filter((r) => r.path === SCALE && (r.body as any)?.Count === 0).length, 1);
    } finally {
      log.restore();
      await rig.stop();
      await d.stop();
    }
  });
});
