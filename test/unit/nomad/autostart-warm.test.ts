// Warm state, one write per wake (issue 15 item 2): the processor follows Nomad's event stream for
// its jobs, a wake is one check-and-set scale request, a conflict is news (read again, decide
// again), a reconnect resumes from its index and reads its jobs again, and the servers' version
// decides whether any of this applies. Against the Nomad API double, requests counted exactly.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { rootLogger } from '../../../src/log';
import { NomadClient, resolveNomadSettings } from '../../../src/pipeline/processors/nomad_autostart/client';
import { EventStreamFollower } from '../../../src/pipeline/processors/nomad_autostart/event-stream';
import { WarmState } from '../../../src/pipeline/processors/nomad_autostart/warm-state';
import {
  captureLog,
  captureTelemetry,
  sleep,
  startAutostart,
  until,
  untilHeard,
  type AutostartRig,
  type CapturedLog,
  type CapturedTelemetry,
} from '../../helpers/autostart';
import { NO_DEPLOYMENTS, NomadDouble, rawCall, type DoubleToken, type NomadDoubleOptions } from '../../helpers/nomad';
import { sniEvent } from '../pipeline/events';

const SCALE = '/v1/job/web/scale';
const JOB = '/v1/job/web';
const STREAM = '/v1/event/stream';
const TOKEN = 'c0ffee00-WARM-TOKEN-0000-000000000001';

const hello = () => sniEvent({ serverName: 'app.example.com', clientAddress: '10.1.2.3', serverPort: 443, readAtNs: process.hrtime.bigint() });

function rules(head = '', extra = ''): string {
  return `${head}    agent_host: agent-1
    timeout: 2s
    retry: { initial: 20ms, max: 100ms, give_up_after: 2s }
    cluster: { grace: 10ms }
    rules:
      - name: web
        match: { sni: [app.example.com] }
        job: web
        group: web
        wait_for: none
        cooldown: 1ms
${extra}`;
}

/** web/web at `count`; web/side runs one allocation, so the job's ModifyIndex moves past its JobModifyIndex. */
const web = (count = 0): Parameters<NomadDouble['addJob']>[0] => ({
  ID: 'web',
  Update: NO_DEPLOYMENTS,
  TaskGroups: [
    { Name: 'web', Count: count },
    { Name: 'side', Count: 1 },
  ],
});

const lines = (d: NomadDouble): string[] => d.requests().map((r) => `${r.method} ${r.path}`);
const jmi = (d: NomadDouble): number => d.job('web')!.JobModifyIndex;
/** Someone else scales a group of web (an operator, another agent). */
const scaleByHand = async (d: NomadDouble, group: string, count: number, token?: string): Promise<void> => {
  const r = await rawCall(d.url, 'POST', SCALE, { token, body: { Count: count, Target: { Group: group }, Message: 'by hand' } });
  assert.equal(r.status, 200, r.text);
};

describe('nomad_autostart keeps its jobs warm and wakes with one write', () => {
  let d: NomadDouble;
  let rig: AutostartRig | undefined;
  let log: CapturedLog | undefined;
  afterEach(async () => {
    log?.restore();
    await rig?.stop();
    await d?.stop();
    rig = undefined;
    log = undefined;
  });

  /** The processor started and ready; the request log then starts empty. */
  async function setup(body = rules(), opts: NomadDoubleOptions = {}, job = web()): Promise<CapturedTelemetry> {
    d = await NomadDouble.start({ pendingDelayMs: 5, ...opts });
    d.addJob(job);
    log = captureLog();
    const tel = captureTelemetry();
    rig = startAutostart(d, body, { context: tel.context });
    await rig.processor.ready();
    await sleep(20); // the side group's allocation placed and running
    d.clearRequests();
    return tel;
  }
  const wake = async (): Promise<void> => {
    rig!.dispatch(hello());
    await rig!.processor.settled();
  };

  it("learns the version from /v1/agent/self, then follows only its jobs' topics per namespace, reading each job once", async () => {
    d = await NomadDouble.start({ namespaces: ['prod'] });
    d.addJob(web());
    d.addJob({ ID: 'api', Namespace: 'prod', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'api', Count: 0 }] });
    d.addJob({ ID: 'other', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'x', Count: 0 }] });
    log = captureLog();
    rig = startAutostart(d, rules('', '      - { name: api, match: { sni: [api.example.com] }, job: api, group: api, namespace: prod, wait_for: none }\n'));
    await rig.processor.ready();
    assert.deepEqual(rig.processor.writeMode, { kind: 'check-and-set', version: '2.0.6', from: 'agent' });
    assert.equal(lines(d)[0], 'GET /v1/agent/self');
    const streams = d.requests().filter((r) => r.path === STREAM);
    assert.deepEqual(streams.map((r) => [r.query.namespace, new URLSearchParams(r.search).getAll('topic'), r.query.index]).sort(), [
      ['default', ['Job:web', 'Deployment:web'], '0'],
      ['prod', ['Job:api', 'Deployment:api'], '0'],
    ]);
    assert.deepEqual([d.count('GET', JOB), d.count('GET', '/v1/job/api'), d.count('GET', '/v1/job/other')], [1, 1, 0]);
    assert.equal(rig.processor.warmJob('prod', 'api').current, true);
  });

  it("wakes with exactly one request: the scale, carrying the job's JobModifyIndex (not the scale status's)", async () => {
    const tel = await setup();
    const status = (await rawCall(d.url, 'GET', SCALE)).json();
    const token = jmi(d);
    assert.notEqual(status.JobModifyIndex, token, "the scale status's JobModifyIndex is the job's ModifyIndex");
    d.clearRequests();
    await wake();
    assert.deepEqual(lines(d), [`POST ${SCALE}`]);
    assert.equal((d.requests()[0].body as any).JobModifyIndex, token);
    assert.equal(d.job('web')!.TaskGroups[0].Count, 1);
    assert.equal(tel.sum('netwatch.nomad.autostart.wakes', { 'netwatch.nomad.autostart.outcome': 'scaled' }), 1);
    // The answer's JobModifyIndex is the next token: known without waiting for the stream.
    const known = rig!.processor.warmJob('default', 'web');
    assert.deepEqual([known.current, known.job?.kind === 'present' && known.job.jobModifyIndex], [true, jmi(d)]);
  });

  it('takes a conflict as news: reads the job again, finds the group up, and ends as already awake, without alarm', async () => {
    const tel = await setup();
    d.silenceEventStreams(true); // the agent does not hear of the next write in time
    await scaleByHand(d, 'web', 2);
    d.clearRequests();
    await wake();
    assert.deepEqual(lines(d), [`POST ${SCALE}`, `GET ${JOB}`], 'the write conflicted, the read showed the group up: nothing more');
    assert.equal(d.job('web')!.TaskGroups[0].Count, 2, 'never lowered');
    assert.equal(tel.sum('netwatch.nomad.autostart.wakes', { 'netwatch.nomad.autostart.outcome': 'already_scaled' }), 1);
    assert.equal(tel.sum('netwatch.nomad.autostart.scale_calls', { 'http.response.status_code': 500 }), 1);
    assert.deepEqual([...log!.at('warn'), ...log!.at('error')], [], 'no alarm');
  });

  it('after a conflict that left the group below the count, decides again and writes with the new token', async () => {
    const tel = await setup();
    d.silenceEventStreams(true);
    await scaleByHand(d, 'side', 2); // another group: the job changed, this group did not
    const token = jmi(d);
    d.clearRequests();
    await wake();
    assert.deepEqual(lines(d), [`POST ${SCALE}`, `GET ${JOB}`, `POST ${SCALE}`]);
    assert.equal((d.requests()[2].body as any).JobModifyIndex, token);
    assert.deepEqual(
      d.job('web')!.TaskGroups.map((g) => g.Count),
      [1, 2],
    );
    assert.equal(tel.sum('netwatch.nomad.autostart.wakes', { 'netwatch.nomad.autostart.outcome': 'scaled' }), 1);
    assert.deepEqual([...log!.at('warn'), ...log!.at('error')], []);
  });

  it('when two agents wake the same group at once, Nomad lets one write through and the other ends already awake', async () => {
    const tel = await setup(rules(), { server: { commitDelayMs: 30 } });
    const other = startAutostart(d, rules().replace('agent-1', 'agent-2'), { id: 'nomad_autostart/other', context: captureTelemetry().context });
    await other.processor.ready();
    d.clearRequests();
    rig!.dispatch(hello());
    other.dispatch(hello());
    await Promise.all([rig!.processor.settled(), other.processor.settled()]);
    await other.stop();
    assert.equal(d.count('POST', SCALE), 2);
    assert.ok(d.count('GET', JOB) <= 1, 'the loser read the job once, or heard of the winner first');
    assert.equal(d.job('web')!.TaskGroups[0].Count, 1);
    const history = (await rawCall(d.url, 'GET', SCALE)).json().TaskGroups.web.Events;
    assert.equal(history.filter((e: any) => e.Count === 1).length, 1, 'one scaling event');
    assert.ok(tel.sum('netwatch.nomad.autostart.wakes') === 1);
  });

  it('resumes a dropped stream from the index after the last batch it saw, and reads its job again', async () => {
    await setup();
    await scaleByHand(d, 'side', 2);
    const seen = jmi(d); // the index of that write's batch
    await untilHeard(rig!.processor, 'web', (j) => j.counts.get('side') === 2);
    d.clearRequests();
    d.dropEventStreams();
    await until(() => d.count('GET', JOB) === 1 && rig!.processor.warmJob('default', 'web').current, 'the reconnect and its read');
    const again = d.requests().filter((r) => r.path === STREAM);
    assert.equal(again.length, 1);
    assert.equal(again[0].query.index, String(seen + 1));
    d.clearRequests();
    await wake();
    assert.deepEqual(lines(d), [`POST ${SCALE}`], 'warm again: one write');
  });

  it('after an overrun (the missed events gone from the buffer), learns the truth from the read that follows every reconnect', async () => {
    await setup(rules(), { server: { eventBufferSize: 3 } });
    d.addJob({ ID: 'busy', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'b', Count: 0 }] });
    d.silenceEventStreams(true);
    await scaleByHand(d, 'web', 3); // the agent misses it...
    for (let i = 1; i <= 4; i++) await rawCall(d.url, 'POST', '/v1/job/busy/scale', { body: { Count: i % 2, Target: { Group: 'b' } } }); // ...and it leaves the buffer
    d.silenceEventStreams(false);
    d.clearRequests();
    d.dropEventStreams();
    await untilHeard(rig!.processor, 'web', (j) => j.counts.get('web') === 3);
    assert.ok(d.count('GET', JOB) >= 1, 'read again after the reconnect');
    d.clearRequests();
    await wake();
    assert.deepEqual(lines(d), [], 'the group is up: nothing to write');
  });

  it('with a token that cannot read /v1/agent/self, takes the version from server_version', async () => {
    const tokens: DoubleToken[] = [{ secretId: TOKEN, rules: [{ namespace: '*', policy: 'write' }] }];
    await setup(rules(`    token: ${TOKEN}\n    server_version: 2.0.5\n`), { acl: true, tokens });
    assert.deepEqual(rig!.processor.writeMode, { kind: 'check-and-set', version: '2.0.5', from: 'setting' });
    await wake();
    assert.deepEqual(lines(d), [`POST ${SCALE}`]);
    assert.deepEqual(
      log!.at('info').filter((l) => l.includes('version')),
      [],
      'nothing to say about the version',
    );
  });

  it('with neither agent:read nor server_version, reads before each write and says so once', async () => {
    const tokens: DoubleToken[] = [{ secretId: TOKEN, rules: [{ namespace: '*', policy: 'write' }] }];
    await setup(rules(`    token: ${TOKEN}\n`), { acl: true, tokens });
    assert.deepEqual(rig!.processor.writeMode, { kind: 'read-then-write', why: 'unknown' });
    await wake();
    await sleep(5);
    await scaleByHand(d, 'web', 0, TOKEN);
    d.clearRequests();
    await wake();
    assert.deepEqual(lines(d), [`GET ${SCALE}`, `POST ${SCALE}`]);
    assert.equal((d.requests()[1].body as any).JobModifyIndex, undefined);
    const said = log!.at('info').filter((l) => l.includes("the Nomad servers' version is unknown"));
    assert.equal(said.length, 1);
    assert.match(
      said[0],
      /\/v1\/agent\/self: the token cannot read it \(agent:read\); server_version is not set\): every wake reads the group's scale status before it writes; grant agent:read \(agent \{ policy = "read" \} in the token's policy\) or set server_version for one write per wake/,
    );
  });

  it("uses a client agent's own version when the agent it talks to is not a server", async () => {
    await setup(rules(), { server: { version: '2.0.5' }, agent: { server: false, version: '1.8.1' } });
    assert.deepEqual(rig!.processor.writeMode, { kind: 'read-then-write', why: 'older', version: '1.8.1' });
  });

  it('with a token that cannot read jobs (no read-job: the stream is refused), reads the scale status before each write', async () => {
    const tokens: DoubleToken[] = [{ secretId: TOKEN, agent: 'read', rules: [{ namespace: 'default', capabilities: ['read-job-scaling', 'scale-job'] }] }];
    await setup(rules(`    token: ${TOKEN}\n`), { acl: true, tokens });
    assert.equal(rig!.processor.writeMode?.kind, 'check-and-set');
    await wake();
    assert.deepEqual(lines(d), [`GET ${SCALE}`, `POST ${SCALE}`]);
    assert.equal(d.job('web')!.TaskGroups[0].Count, 1);
    assert.equal(
      log!.at('info').filter((l) => l.includes('the token cannot read the jobs of namespace default (read-job), so it cannot follow their event stream'))
        .length,
      1,
    );
    assert.deepEqual(log!.at('error'), []);
  });

  it('retries a 500 on the one write by writing again from warm state (the token still holds)', async () => {
    const tel = await setup();
    const token = jmi(d);
    d.failNext(1, 500, 'raft apply failed', { method: 'POST' });
    await wake();
    assert.deepEqual(lines(d), [`POST ${SCALE}`, `POST ${SCALE}`]);
    assert.deepEqual(
      d.requests().map((r) => (r.body as any).JobModifyIndex),
      [token, token],
    );
    assert.equal(tel.sum('netwatch.nomad.autostart.wakes', { 'netwatch.nomad.autostart.outcome': 'scaled' }), 1);
  });

  it('a write that timed out but was carried out is one wake: the history shows it was this one', async () => {
    const tel = await setup(rules().replace('timeout: 2s', 'timeout: 100ms').replace('initial: 20ms, max: 100ms', 'initial: 400ms, max: 800ms'));
    d.delay(250, { method: 'POST' });
    await wake();
    d.delay(0);
    assert.equal(d.count('POST', SCALE), 1, 'not written twice');
    assert.equal(d.count('GET', SCALE), 1, 'the history read');
    assert.equal(d.job('web')!.TaskGroups[0].Count, 1);
    assert.equal(tel.sum('netwatch.nomad.autostart.wakes', { 'netwatch.nomad.autostart.outcome': 'scaled' }), 1);
  });

  it('waits out a deployment it heard of on the stream without a write Nomad would refuse, then scales', async () => {
    const tel = await setup(rules('', '        count: 2\n'), {}, web(1));
    d.setActiveDeployment('web', true);
    await untilHeard(rig!.processor, 'web', (j) => WarmState.deploymentBlocks(j));
    d.clearRequests();
    rig!.dispatch(hello());
    await until(() => d.count('GET', '/v1/job/web/deployment') >= 1, 'the deployment wait');
    assert.equal(d.count('POST', SCALE), 0, 'no doomed write');
    d.setActiveDeployment('web', false);
    await rig!.processor.settled();
    assert.equal(d.count('POST', SCALE), 1);
    assert.equal(tel.sum('netwatch.nomad.autostart.scale_calls', { 'http.response.status_code': 400 }), 0);
  });

  it("puts a group to sleep with the check-and-set on the token it knew before it read the group's history", async () => {
    await setup(rules('', '        idle_after: 150ms\n'));
    await wake();
    const token = jmi(d);
    await until(() => d.requests().some((r) => r.method === 'POST' && (r.body as any).Count === 0), 'the scale-down', 3000);
    await rig!.processor.settled();
    const down = d.requests().find((r) => r.method === 'POST' && (r.body as any).Count === 0)!;
    assert.equal((down.body as any).JobModifyIndex, token);
    assert.equal(d.job('web')!.TaskGroups[0].Count, 0);
  });
});

describe('the event-stream follower', () => {
  it('drops a stream silent for longer than the heartbeat timeout, and follows it again', async () => {
    const d = await NomadDouble.start({ server: { eventHeartbeatMs: 20 } });
    d.addJob(web());
    const client = new NomadClient(resolveNomadSettings({}, { NOMAD_ADDR: d.url }));
    const warm = new WarmState([{ namespace: 'default', job: 'web' }]);
    const f = new EventStreamFollower({
      client,
      namespace: 'default',
      jobs: ['web'],
      warm,
      retry: { initialMs: 10, maxMs: 20 },
      log: rootLogger.child('test'),
      heartbeatTimeoutMs: 150,
    });
    try {
      f.start();
      await f.firstSettled;
      assert.equal(f.state, 'live');
      d.silenceEventStreams(true);
      await until(() => f.state !== 'live', 'the silent stream dropped', 2000);
      assert.equal(warm.get('default', 'web'), undefined, 'not current while reconnecting');
      d.silenceEventStreams(false);
      await until(() => f.state === 'live' && f.connections >= 2, 'followed again', 2000);
      assert.equal(warm.get('default', 'web')?.kind, 'present');
    } finally {
      f.stop();
      await client.destroy();
      await d.stop();
    }
  });
});
