// How nomad_autostart handles Nomad refusing or failing: each class of answer as the issue
// specifies, never crashing, never flooding Nomad, and never logging the token. The token here
// cannot read /v1/agent/self and server_version is unset, so wakes read the scale status before
// they write; the same answers to the one write of a wake from warm state are in autostart-warm.test.ts.
import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import { inspect } from 'node:util';
import { NO_DEPLOYMENTS, NomadDouble, type NomadDoubleOptions } from '../../helpers/nomad';
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
import { sniEvent } from '../pipeline/events';

const TOKEN = 'c0ffee00-AUTOSTART-TOKEN-0000-00000000abcd';
const SCALE = '/v1/job/web/scale';
/** Every log line and log record of every test here, checked for the token at the end. */
const everything: string[] = [];

const hello = () => sniEvent({ serverName: 'app.example.com', clientAddress: '10.1.2.3', serverPort: 443, readAtNs: process.hrtime.bigint() });

function rules(extra = '', count = 1): string {
  return `    token: ${TOKEN}
    timeout: 2s
    retry: { initial: 20ms, max: 100ms, give_up_after: 2s }
    rules:
      - name: web
        match: { sni: [app.example.com] }
        job: web
        group: web
        count: ${count}
        wait_for: none
        cooldown: 1ms
${extra}`;
}

describe('nomad_autostart classifies what Nomad answers', () => {
  let d: NomadDouble;
  let rig: AutostartRig | undefined;
  let log: CapturedLog | undefined;
  afterEach(async () => {
    log?.restore();
    everything.push(...(log?.lines ?? []));
    await rig?.stop();
    await d?.stop();
    rig = undefined;
    log = undefined;
  });

  async function setup(
    body: string,
    job: Parameters<NomadDouble['addJob']>[0] = { ID: 'web', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'web', Count: 0 }] },
    opts: NomadDoubleOptions = {},
  ): Promise<CapturedTelemetry> {
    d = await NomadDouble.start({ acl: true, tokens: [{ secretId: TOKEN, rules: [{ namespace: '*', policy: 'write' }] }], ...opts });
    d.addJob(job);
    log = captureLog();
    const tel = captureTelemetry();
    rig = startAutostart(d, body, { context: tel.context });
    await rig.processor.ready();
    d.clearRequests();
    return tel;
  }
  const wake = async (): Promise<void> => {
    rig!.dispatch(hello());
    await rig!.processor.settled();
  };
  const keep = (tel: CapturedTelemetry): void => {
    everything.push(...tel.records.map((r) => inspect(r, { depth: 5 })));
  };

  it('waits out an active deployment (not an error) with blocking queries, then scales', async () => {
    const tel = await setup(rules());
    d.setActiveDeployment('web', true);
    rig!.dispatch(hello());
    await until(() => d.count('GET', '/v1/job/web/deployment') >= 2, 'a blocking deployment query');
    await sleep(150);
    assert.deepEqual([d.count('POST', SCALE), d.job('web')!.TaskGroups[0].Count], [1, 0], 'refused once, then waiting');
    d.setActiveDeployment('web', false);
    await rig!.processor.settled();
    assert.equal(d.count('POST', SCALE), 2);
    assert.equal(d.job('web')!.TaskGroups[0].Count, 1);
    const deploymentReads = d.requests().filter((r) => r.path === '/v1/job/web/deployment');
    assert.ok(deploymentReads.length <= 3, `blocking, not polling: ${deploymentReads.length}`);
    assert.ok(deploymentReads.slice(1).every((r) => Number(r.query.index) > 1 && r.query.wait !== undefined));
    assert.equal(tel.sum('netwatch.nomad.autostart.scale_calls', { 'http.response.status_code': 400 }), 1);
    assert.equal(tel.sum('netwatch.nomad.autostart.scale_calls', { 'http.response.status_code': 200 }), 1);
    assert.equal(tel.sum('netwatch.nomad.autostart.wakes', { 'netwatch.nomad.autostart.outcome': 'scaled' }), 1);
    assert.deepEqual([...log!.at('warn'), ...log!.at('error')], [], 'not an error');
    assert.equal(log!.at('info').filter((l) => l.includes('has an active deployment')).length, 1);
    keep(tel);
  });

  it('waits out a deployment as long as its progress deadline, not only give_up_after', async () => {
    const MS = 1e6;
    const tel = await setup(rules('', 2).replace('give_up_after: 2s', 'give_up_after: 150ms'), {
      ID: 'web',
      Update: { HealthCheck: 'manual', ProgressDeadline: 500 * MS },
      TaskGroups: [{ Name: 'web', Count: 1 }],
    });
    await sleep(30); // the registration's deployment is running
    const t0 = Date.now();
    await wake();
    assert.ok(Date.now() - t0 >= 300, 'it waited for Nomad to end the deployment');
    assert.equal(d.job('web')!.TaskGroups[0].Count, 2);
    assert.equal(tel.sum('netwatch.nomad.autostart.wakes', { 'netwatch.nomad.autostart.outcome': 'scaled' }), 1);
    assert.deepEqual(log!.at('warn'), [], 'it did not give up');
    keep(tel);
  });

  it('reports a count above the scaling policy maximum once, as a configuration error with the fix', async () => {
    const tel = await setup(rules('', 3), { ID: 'web', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'web', Count: 0, Scaling: { Min: 0, Max: 2 } }] });
    await wake();
    await sleep(5);
    await wake();
    assert.equal(d.count('POST', SCALE), 2, 'one refused request per wake, no retries');
    assert.equal(d.job('web')!.TaskGroups[0].Count, 0);
    assert.equal(tel.sum('netwatch.nomad.autostart.wakes', { 'netwatch.nomad.autostart.outcome': 'policy_violation' }), 2);
    const errors = log!.at('error');
    assert.equal(errors.length, 1);
    assert.match(
      errors[0],
      /group count was greater than scaling policy maximum: 3 > 2\. Rule web asks for count 3, above the scaling policy's maximum 2; set count: 2 or less in the rule, or raise max in the group's scaling block/,
    );
    keep(tel);
  });

  it('disables the rule on a 403 until reload, reporting it once with the capability it needs', async () => {
    const READER = 'c0ffee00-READER-ONLY-000000000000beef';
    const tel = await setup(rules().replace(TOKEN, READER), undefined, {
      acl: true,
      tokens: [{ secretId: READER, rules: [{ namespace: 'default', policy: 'read' }] }],
    });
    await wake();
    assert.deepEqual([d.count('GET', SCALE), d.count('POST', SCALE)], [1, 1]);
    for (let i = 0; i < 5; i++) {
      await sleep(3);
      await wake();
    }
    assert.equal(d.requests().length, 2, 'a disabled rule calls nothing');
    assert.equal(tel.sum('netwatch.nomad.autostart.wakes', { 'netwatch.nomad.autostart.outcome': 'forbidden' }), 1);
    assert.equal(tel.sum('netwatch.nomad.autostart.triggers'), 6, 'triggers are still counted');
    assert.equal(tel.sum('netwatch.nomad.autostart.scale_calls', { 'http.response.status_code': 403 }), 1);
    const errors = log!.at('error');
    assert.equal(errors.length, 1);
    assert.match(
      errors[0],
      /Nomad refused the scale of job "web" group "web" in namespace "default" \(403 Permission denied\): the token needs scale-job, e.g\. the policy namespace "default" \{ capabilities = \["read-job", "scale-job"\] \}; rule web is disabled until the configuration is reloaded/,
    );
    keep(tel);
  });

  it('a token Nomad does not know is a 403 on the first read: the rule is disabled', async () => {
    const tel = await setup(rules().replace(TOKEN, 'not-a-known-token-0000'));
    await wake();
    await sleep(3);
    await wake();
    assert.deepEqual([d.count('GET', SCALE), d.count('POST', SCALE)], [1, 0]);
    assert.match(log!.at('error')[0], /refused the scale status .* the token needs read-job \(or read-job-scaling\)/);
    keep(tel);
  });

  it('reports a missing job (404) once, and never floods Nomad with reads for it', async () => {
    const tel = await setup(rules().replace('job: web', 'job: ghost').replace('cooldown: 1ms', 'cooldown: 300ms'));
    for (let i = 0; i < 100; i++) rig!.dispatch(hello());
    await rig!.processor.settled();
    for (let i = 0; i < 100; i++) rig!.dispatch(hello());
    await rig!.processor.settled();
    assert.deepEqual([d.count('GET', '/v1/job/ghost/scale'), d.requests().length], [1, 1], 'one read per cooldown');
    await sleep(320);
    await wake();
    assert.equal(d.count('GET', '/v1/job/ghost/scale'), 2);
    assert.equal(tel.sum('netwatch.nomad.autostart.wakes', { 'netwatch.nomad.autostart.outcome': 'job_not_found' }), 2);
    assert.deepEqual(
      log!.at('warn').map((l) => l.slice(l.indexOf('Nomad has'))),
      ['Nomad has no job "ghost" in namespace "default" (404); check job and namespace of rule web'],
    );
    keep(tel);
  });

  it('retries 500s with growing, jittered delays, then scales once Nomad recovers', async () => {
    const tel = await setup(rules());
    d.failNext(3, 500, 'rpc error: No cluster leader');
    await wake();
    const reads = d.requests().filter((r) => r.path === SCALE && r.method === 'GET');
    assert.equal(reads.length, 4);
    const gaps = reads.slice(1).map((r, i) => r.at - reads[i].at);
    // Steps of 20, 40, 80 ms, each delay at least half its step: the floor doubles.
    gaps.forEach((g, i) => assert.ok(g >= 10 * 2 ** i - 1, `retry ${i + 1} came after ${g} ms (${gaps})`));
    assert.equal(d.count('POST', SCALE), 1);
    assert.equal(d.job('web')!.TaskGroups[0].Count, 1);
    assert.equal(tel.sum('netwatch.nomad.autostart.wakes', { 'netwatch.nomad.autostart.outcome': 'scaled' }), 1);
    const warns = log!.at('warn');
    assert.equal(warns.length, 1, 'one warning for the whole outage');
    assert.match(
      warns[0],
      /Nomad failed \(Nomad GET http:\/\/127\.0\.0\.1:\d+\/v1\/job\/web\/scale: 500 rpc error: No cluster leader\); retrying with backoff \(at most every 100ms\)/,
    );
    assert.equal(log!.at('info').filter((l) => l.includes('Nomad answers again')).length, 1);
    keep(tel);
  });

  it('retries a 500 on the scale call by reading again first, and counts it by status', async () => {
    const tel = await setup(rules());
    d.failNext(1, 500, 'raft apply failed', { method: 'POST' });
    await wake();
    assert.deepEqual(
      d.requests().map((r) => r.method),
      ['GET', 'POST', 'GET', 'POST'],
    );
    assert.equal(tel.sum('netwatch.nomad.autostart.scale_calls', { 'http.response.status_code': 500 }), 1);
    assert.equal(tel.sum('netwatch.nomad.autostart.scale_calls', { 'http.response.status_code': 200 }), 1);
    keep(tel);
  });

  it('never floods Nomad while it is down, and gives up when the traffic stops', async () => {
    const tel = await setup(rules().replace('give_up_after: 2s', 'give_up_after: 400ms'));
    d.failNext(10_000, 503, 'Service Unavailable');
    const t0 = Date.now();
    await wake();
    const elapsed = Date.now() - t0;
    const n = d.requests().length;
    assert.ok(elapsed >= 400 && elapsed < 1500, `gave up after the traffic stopped for give_up_after: ${elapsed} ms`);
    // Delays are at least half a step: 10, 20, 40, then 50 ms; 400 ms hold at most ~11 attempts.
    assert.ok(n >= 4 && n <= 12, `bounded attempts: ${n}`);
    await sleep(300);
    assert.equal(d.requests().length, n, 'nothing after giving up');
    assert.equal(tel.sum('netwatch.nomad.autostart.wakes', { 'netwatch.nomad.autostart.outcome': 'failed' }), 1);
    assert.equal(log!.at('warn').filter((l) => l.includes('gave up waking default/web/web')).length, 1);
    keep(tel);
  });

  it('retries timeouts and connection resets, then scales', async () => {
    const tel = await setup(rules().replace('timeout: 2s', 'timeout: 100ms'));
    d.delay(400);
    rig!.dispatch(hello());
    await until(() => d.count('GET', SCALE) >= 2, 'a retried read');
    d.delay(0);
    d.resetNext(1);
    await rig!.processor.settled();
    assert.equal(d.job('web')!.TaskGroups[0].Count, 1);
    assert.equal(d.count('POST', SCALE), 1);
    assert.match(
      log!.at('warn')[0],
      /Nomad could not be reached \(Nomad GET http:\/\/127\.0\.0\.1:\d+\/v1\/job\/web\/scale: timed out: no answer within 100 ms\); retrying with backoff/,
    );
    keep(tel);
  });

  it('a scale call that timed out but was carried out is one wake, not two', async () => {
    // The read after the timeout comes after the slow write was carried out (backoff 200-400 ms).
    const tel = await setup(rules().replace('timeout: 2s', 'timeout: 100ms').replace('initial: 20ms, max: 100ms', 'initial: 400ms, max: 800ms'));
    d.delay(250, { method: 'POST' });
    await wake();
    assert.equal(d.count('POST', SCALE), 1, 'the read after the timeout shows this agent set the count');
    assert.equal(d.job('web')!.TaskGroups[0].Count, 1);
    assert.equal(tel.sum('netwatch.nomad.autostart.scale_calls', { 'error.type': 'timeout' }), 1);
    assert.equal(tel.sum('netwatch.nomad.autostart.wakes', { 'netwatch.nomad.autostart.outcome': 'scaled' }), 1);
    keep(tel);
  });

  it('keeps working when Nomad is not there at all', async () => {
    const tel = await setup(rules().replace('give_up_after: 2s', 'give_up_after: 100ms'));
    const url = d.url;
    await d.stop();
    rig!.dispatch(hello());
    await rig!.processor.settled();
    assert.equal(tel.sum('netwatch.nomad.autostart.wakes', { 'netwatch.nomad.autostart.outcome': 'failed' }), 1);
    assert.match(
      log!.at('warn')[0],
      new RegExp(`Nomad could not be reached \\(Nomad GET ${url.replace(/[.]/g, '\\.')}/v1/job/web/scale: failed: .*ECONNREFUSED`),
    );
    d = await NomadDouble.start(); // afterEach stops it
    keep(tel);
  });

  it('reports a validation 500 (job_max_count) once and does not retry it as an outage', async () => {
    const tel = await setup(rules('', 3), undefined, { server: { jobMaxCount: 2 } });
    await wake();
    await sleep(5);
    await wake();
    assert.equal(d.count('POST', SCALE), 2, 'one refused request per wake, no retries');
    assert.equal(tel.sum('netwatch.nomad.autostart.wakes', { 'netwatch.nomad.autostart.outcome': 'bad_request' }), 2);
    const errors = log!.at('error');
    assert.equal(errors.length, 1);
    assert.match(
      errors[0],
      /total count was greater than configured job_max_count: 3 > 2; the servers' job_max_count caps the job's total count: lower count in rule web or raise job_max_count/,
    );
    assert.deepEqual(log!.at('warn'), [], 'not an outage');
    keep(tel);
  });

  it("retries the scheduler configuration's 403 with backoff, keeps the rule, and scales once it is lifted", async () => {
    const tel = await setup(rules());
    d.setRejectJobRegistration(true);
    rig!.dispatch(hello());
    await until(() => d.count('POST', SCALE) >= 3, 'retries');
    d.setRejectJobRegistration(false);
    await rig!.processor.settled();
    assert.equal(d.job('web')!.TaskGroups[0].Count, 1);
    assert.equal(tel.sum('netwatch.nomad.autostart.wakes', { 'netwatch.nomad.autostart.outcome': 'scaled' }), 1);
    const warns = log!.at('warn');
    assert.equal(warns.length, 1);
    assert.match(warns[0], /disabled by the scheduler configuration .* the token's policy is not the cause\. Retrying with backoff/);
    assert.deepEqual(log!.at('error'), [], 'the rule is not disabled');
    keep(tel);
  });

  it('takes a 400 for a group gone from the job between the read and the write as group_not_found', async () => {
    const tel = await setup(rules());
    d.delay(300, { method: 'POST' });
    rig!.dispatch(hello());
    await until(() => d.count('POST', SCALE) >= 1, "the agent's scale request");
    const reg = await fetch(`${d.url}/v1/jobs`, {
      method: 'PUT',
      headers: { 'X-Nomad-Token': TOKEN },
      body: JSON.stringify({ Job: { ID: 'web', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'api', Count: 0 }] } }),
    });
    assert.equal(reg.status, 200);
    await rig!.processor.settled();
    d.delay(0);
    assert.equal(tel.sum('netwatch.nomad.autostart.wakes', { 'netwatch.nomad.autostart.outcome': 'group_not_found' }), 1);
    assert.equal(d.count('POST', SCALE), 1);
    assert.match(log!.at('warn')[0], /has no task group "web"/);
    keep(tel);
  });

  it('takes a check-and-set conflict as news, not a failure: it reads again and decides again', async () => {
    const tel = await setup(rules('        start_stopped: true\n'), { ID: 'web', Update: NO_DEPLOYMENTS, Stop: true, TaskGroups: [{ Name: 'web', Count: 1 }] });
    d.delay(300, { method: 'PUT' });
    rig!.dispatch(hello());
    await until(() => d.count('PUT', '/v1/jobs') >= 1, "the agent's register");
    // Someone else writes the job while the agent's register (EnforceIndex) is on its way.
    const meta = await fetch(`${d.url}/v1/job/web/scale`, {
      method: 'POST',
      headers: { 'X-Nomad-Token': TOKEN },
      body: JSON.stringify({ Count: 1, Target: { Group: 'web' } }),
    });
    assert.equal(meta.status, 200);
    await rig!.processor.settled();
    d.delay(0);
    const registers = d.requests().filter((r) => r.method === 'PUT');
    assert.equal(registers.length, 2, 'its register conflicted once, then it read again and registered with the new index');
    assert.notEqual((registers[0].body as any).JobModifyIndex, (registers[1].body as any).JobModifyIndex);
    assert.equal(d.job('web')!.Stop, false);
    assert.equal(tel.sum('netwatch.nomad.autostart.wakes', { 'netwatch.nomad.autostart.outcome': 'started' }), 1);
    assert.deepEqual([...log!.at('warn'), ...log!.at('error')], [], 'no alarm');
    keep(tel);
  });

  after(() => {
    const leaks = everything.filter((l) => l.includes(TOKEN) || l.includes('READER-ONLY'));
    assert.deepEqual(leaks, [], 'the token never appears in a log line or a log record');
    assert.ok(everything.length > 0, 'the check saw the logs');
  });
});
