// nomad_autostart puts groups it woke back to sleep: only after no matching traffic AND no open
// connections to the rule's ports for idle_after (short durations here), never a count someone
// else set, and it knows what it woke across restarts (from Nomad's history) and reloads.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { NO_DEPLOYMENTS, NomadDouble, rawCall } from '../../helpers/nomad';
import { captureLog, captureTelemetry, sleep, startAutostart, until, type AutostartRig, type CapturedLog } from '../../helpers/autostart';
import { connEvent } from '../pipeline/events';

const SCALE = '/v1/job/db/scale';
const scaleDowns = (d: NomadDouble) => d.requests().filter((r) => r.method === 'POST' && r.path === SCALE && (r.body as any).Count === 0);

function dbRule(extra = '', host = 'agent-1'): string {
  // The cluster decides sleep (the default); alone here, this agent is the whole cluster.
  return `    agent_host: ${host}
    cluster: { grace: 10ms }
    rules:
      - name: db
        match: { connect_to: ["10.9.0.1:5432"] }
        job: db
        group: db
        wait_for: none
        cooldown: 10ms
        idle_after: 300ms
${extra}`;
}

let sock = 100n;
/** A client connecting to the database and, later, closing. */
function client() {
  const s = ++sock;
  return {
    connect: connEvent({ kind: 'connect', sock: s, remoteAddress: '10.9.0.1', remotePort: 5432 }),
    established: connEvent({ kind: 'state', sock: s, remoteAddress: '10.9.0.1', remotePort: 5432, oldState: 'syn_sent', newState: 'established' }),
    close: connEvent({ kind: 'close', sock: s, remoteAddress: '10.9.0.1', remotePort: 5432, oldState: 'established', newState: 'closed' }),
  };
}

describe('nomad_autostart puts idle groups back to sleep', () => {
  let d: NomadDouble;
  const rigs: AutostartRig[] = [];
  let log: CapturedLog | undefined;
  afterEach(async () => {
    log?.restore();
    for (const r of rigs.splice(0)) await r.stop();
    await d?.stop();
  });

  async function setup(body: string, job: Parameters<NomadDouble['addJob']>[0] = { ID: 'db', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'db', Count: 0 }] }) {
    d = await NomadDouble.start({ pendingDelayMs: 10 });
    d.addJob(job);
    log = captureLog();
    const tel = captureTelemetry();
    const rig = startAutostart(d, body, { context: tel.context });
    rigs.push(rig);
    await rig.processor.ready(); // warm state live
    await rig.processor.settled(); // the read at start (it finds nothing to adopt)
    d.clearRequests();
    return { rig, tel };
  }

  it('scales down only after both: no matching traffic and no open connection to its port', async () => {
    const { rig, tel } = await setup(dbRule());
    const c = client();
    rig.dispatch(c.connect);
    rig.dispatch(c.established);
    await rig.processor.settled();
    assert.equal(d.job('db')!.TaskGroups[0].Count, 1, 'woken');
    assert.equal(rig.processor.openConnections(5432), 1);
    await sleep(700);
    assert.equal(scaleDowns(d).length, 0, 'an open connection keeps it awake past idle_after');
    const closedAt = Date.now();
    rig.dispatch(c.close);
    await until(() => scaleDowns(d).length === 1, 'the scale-down', 3000);
    const waited = d.requests().find((r) => (r.body as any)?.Count === 0)!.at - closedAt;
    assert.ok(waited >= 290, `idle_after counts from the last close: ${waited} ms`);
    await rig.processor.settled();
    assert.equal(d.job('db')!.TaskGroups[0].Count, 0);
    const down = scaleDowns(d)[0].body as any;
    assert.equal(down.Message, 'autostart: idle for 300ms: no matching traffic and no open connections to port 5432');
    assert.deepEqual(down.Meta, {
      'netwatch.trigger': 'idle',
      'netwatch.reason': 'idle for 300ms: no matching traffic and no open connections to port 5432',
      'netwatch.rule': 'db',
      'netwatch.agent.host': 'agent-1',
    });
    assert.equal(tel.sum('netwatch.nomad.autostart.sleeps', { 'netwatch.nomad.autostart.outcome': 'scaled_down' }), 1);
    const rec = tel.records.find((r) => r.eventName === 'netwatch.nomad.autostart.sleep')!;
    assert.equal(rec.attributes!['netwatch.nomad.autostart.previous_count'], 1);
    assert.ok((rec.attributes!['netwatch.nomad.autostart.idle.duration'] as number) >= 0.29);
    assert.equal(typeof rec.attributes!['netwatch.nomad.eval_id'], 'string');
    await sleep(400);
    assert.equal(scaleDowns(d).length, 1, 'once');
  });

  it('keeps a group awake while matching traffic keeps coming, even with no connection open', async () => {
    const { rig } = await setup(dbRule());
    for (let i = 0; i < 8; i++) {
      const c = client();
      rig.dispatch(c.connect);
      rig.dispatch(c.close);
      await sleep(100);
    }
    await rig.processor.settled();
    assert.equal(scaleDowns(d).length, 0, 'a trigger every 100 ms resets the 300 ms idle clock');
    await until(() => scaleDowns(d).length === 1, 'the scale-down once traffic stopped', 3000);
  });

  it('wakes again at once when traffic comes after the scale-down', async () => {
    const { rig } = await setup(dbRule());
    rig.dispatch(client().connect);
    await rig.processor.settled();
    rig.dispatch(connEvent({ kind: 'close', sock }));
    await until(() => d.job('db')!.TaskGroups[0].Count === 0, 'asleep', 3000);
    await rig.processor.settled();
    rig.dispatch(client().connect);
    await rig.processor.settled();
    assert.equal(d.job('db')!.TaskGroups[0].Count, 1);
  });

  it('leaves alone a group whose count someone else changed after the wake', async () => {
    const { rig, tel } = await setup(dbRule().replace('idle_after: 300ms', 'idle_after: 800ms'));
    rig.dispatch(client().connect);
    rig.dispatch(connEvent({ kind: 'close', sock }));
    await rig.processor.settled();
    await rawCall(d.url, 'POST', SCALE, { body: { Count: 3, Target: { Group: 'db' }, Message: 'by hand' } });
    await until(() => tel.sum('netwatch.nomad.autostart.sleeps') === 1, 'the idle check', 3000);
    await rig.processor.settled();
    assert.equal(scaleDowns(d).length, 0);
    assert.equal(d.job('db')!.TaskGroups[0].Count, 3);
    assert.equal(tel.sum('netwatch.nomad.autostart.sleeps', { 'netwatch.nomad.autostart.outcome': 'changed_elsewhere' }), 1);
  });

  it('does not scale down a group it did not wake, unless idle_scale_down is any', async () => {
    const up = { ID: 'db', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'db', Count: 2 }] };
    let { rig } = await setup(dbRule(), up);
    await sleep(500);
    assert.equal(scaleDowns(d).length, 0, 'idle_scale_down: woken (the default) leaves it');
    await rig.stop();
    await d.stop();
    ({ rig } = await setup(dbRule('        idle_scale_down: any\n'), up));
    await until(() => scaleDowns(d).length === 1, 'the scale-down of a group someone else woke', 3000);
    await rig.processor.settled();
    assert.equal(d.job('db')!.TaskGroups[0].Count, 0);
  });

  it('after a restart, finds the groups it woke in Nomad scaling history and puts them to sleep', async () => {
    // Each agent alone (with the cluster deciding, any agent's wake is everyone's: autostart-cluster.test.ts).
    const alone = (host?: string) => dbRule('', host).replace('cluster: { grace: 10ms }', 'cluster: { enabled: false }');
    const { rig: first } = await setup(alone().replace('idle_after: 300ms', 'idle_after: 1h'));
    first.dispatch(client().connect);
    first.dispatch(connEvent({ kind: 'close', sock }));
    await first.processor.settled();
    await first.stop();
    const other = startAutostart(d, alone('agent-2'));
    rigs.push(other);
    const again = startAutostart(d, alone());
    rigs.push(again);
    await until(() => scaleDowns(d).length === 1, 'the restarted agent (same host) putting it to sleep', 3000);
    await again.processor.settled();
    assert.equal(d.job('db')!.TaskGroups[0].Count, 0);
    assert.equal((scaleDowns(d)[0].body as any).Meta['netwatch.agent.host'], 'agent-1', 'not the agent on another host');
  });

  it('a reload keeps the open connections it saw and the groups it woke', async () => {
    const { rig: before, tel } = await setup(dbRule());
    const c = client();
    before.dispatch(c.connect);
    await before.processor.settled();
    const after = startAutostart(d, dbRule(), { context: captureTelemetry(() => before.processor).context });
    rigs.push(after);
    await before.stop();
    assert.equal(after.processor.openConnections(5432), 1, 'the open connection carried over');
    await sleep(500);
    assert.equal(scaleDowns(d).length, 0);
    after.dispatch(c.close);
    await until(() => scaleDowns(d).length === 1, 'the scale-down by the reloaded processor', 3000);
    assert.equal(d.count('GET', SCALE), 1, 'no read at start after a reload, none for the wake (warm state): one before the scale-down');
    assert.equal(tel.sum('netwatch.nomad.autostart.wakes'), 1);
  });

  it('reports once, with the fix, a group whose scaling policy minimum keeps it from going to 0', async () => {
    // count 1 and a scaling block without min: Nomad sets min = 1 (api/scaling.go Canonicalize).
    const { rig, tel } = await setup(dbRule('        idle_scale_down: any\n').replace('idle_after: 300ms', 'idle_after: 100ms'), {
      ID: 'db',
      Update: NO_DEPLOYMENTS,
      TaskGroups: [{ Name: 'db', Count: 1, Scaling: { Max: 3 } }],
    });
    await until(() => d.count('POST', SCALE) === 1, 'the scale-down attempt', 3000);
    await sleep(400);
    await rig.processor.settled();
    assert.equal(d.count('POST', SCALE), 1, 'not tried again: the policy will refuse it again');
    assert.equal(d.job('db')!.TaskGroups[0].Count, 1);
    assert.equal(tel.sum('netwatch.nomad.autostart.sleeps', { 'netwatch.nomad.autostart.outcome': 'policy_violation' }), 1);
    const errors = log!.at('error');
    assert.equal(errors.length, 1);
    assert.match(
      errors[0],
      /group count was less than scaling policy minimum: 0 < 1\. Its scaling policy's minimum is 1, so it cannot go to 0 \(without an explicit min, Nomad sets it to the group's count when the job is registered\); add "min = 0" to the group's scaling block and re-submit the job, or remove idle_after from rule db/,
    );
  });

  it('in dry_run says it would scale an idle group down, and writes nothing', async () => {
    const up = { ID: 'db', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'db', Count: 1 }] };
    const { rig, tel } = await setup(dbRule('        idle_scale_down: any\n').replace('    agent_host', '    dry_run: true\n    agent_host'), up);
    await until(() => tel.sum('netwatch.nomad.autostart.sleeps', { 'netwatch.nomad.autostart.outcome': 'dry_run' }) === 1, 'the dry-run sleep', 3000);
    await rig.processor.settled();
    assert.deepEqual(
      d.requests().map((r) => r.method),
      ['GET'],
    );
    assert.equal(d.job('db')!.TaskGroups[0].Count, 1);
    assert.equal(log!.lines.filter((l) => l.includes('dry run: would scale default/db/db from 1 to 0')).length, 1);
  });

  it('never scales down with idle_after unset', async () => {
    const { rig } = await setup(dbRule().replace('        idle_after: 300ms\n', ''));
    rig.dispatch(client().connect);
    rig.dispatch(connEvent({ kind: 'close', sock }));
    await sleep(500);
    await rig.processor.settled();
    assert.equal(scaleDowns(d).length, 0);
    assert.equal(d.job('db')!.TaskGroups[0].Count, 1);
  });
});
