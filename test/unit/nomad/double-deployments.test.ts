// The double's deployments, as Job.LatestDeployment and Job.Scale see them, and faults aimed at some requests only.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NomadDouble, rawCall } from '../../helpers/nomad';

const MS = 1e6; // nanoseconds, as Nomad's JSON carries durations
const QUICK = { MinHealthyTime: 20 * MS };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the Nomad double models deployments', () => {
  let d: NomadDouble;
  before(async () => {
    d = await NomadDouble.start({ pendingDelayMs: 20 });
    d.addJob({ ID: 'web', Update: QUICK, TaskGroups: [{ Name: 'web', Count: 0 }] });
    // No deployment of its own: a blocking read of any job's latest deployment wakes on every change to
    // the deployments table (its index is the table's), as in Nomad.
    d.addJob({ ID: 'api', Update: { MaxParallel: 0 }, TaskGroups: [{ Name: 'api', Count: 1 }] });
  });
  after(() => d.stop());

  it('answers null for a job that never had a deployment', async () => {
    const r = await rawCall(d.url, 'GET', '/v1/job/web/deployment');
    assert.deepEqual([r.status, r.text, r.headers.get('x-nomad-knownleader')], [200, 'null', 'true']);
  });

  it('shows an active deployment as running, blocks scaling, and a blocking read returns when it ends', async () => {
    d.setActiveDeployment('web', true);
    const running = await rawCall(d.url, 'GET', '/v1/job/web/deployment');
    assert.deepEqual([running.json().Status, running.json().StatusDescription, running.json().JobID], ['running', 'Deployment is running', 'web']);
    const index = Number(running.headers.get('x-nomad-index'));
    const refused = await rawCall(d.url, 'POST', '/v1/job/web/scale', { body: { Count: 1, Target: { Group: 'web' } } });
    assert.deepEqual([refused.status, refused.text], [400, 'job scaling blocked due to active deployment']);
    const t0 = Date.now();
    const waiting = rawCall(d.url, 'GET', `/v1/job/web/deployment?index=${index}&wait=5s`);
    setTimeout(() => d.setActiveDeployment('web', false), 100);
    const done = await waiting;
    assert.ok(Date.now() - t0 >= 90, 'it blocked until the deployment changed');
    assert.deepEqual([done.json().Status, done.json().StatusDescription], ['successful', 'Deployment completed successfully']);
    assert.ok(Number(done.headers.get('x-nomad-index')) > index);
    const ok = await rawCall(d.url, 'POST', '/v1/job/web/scale', { body: { Count: 1, Target: { Group: 'web' } } });
    assert.equal(ok.status, 200);
  });

  it('cancels the active deployment of a job that is stopped', async () => {
    d.setActiveDeployment('api', true);
    await rawCall(d.url, 'DELETE', '/v1/job/api');
    const r = (await rawCall(d.url, 'GET', '/v1/job/api/deployment')).json();
    assert.deepEqual([r.Status, r.StatusDescription], ['cancelled', 'Cancelled because job is stopped']);
  });

  it('fails or slows only the requests a fault is aimed at', async () => {
    d.failNext(1, 500, 'only writes', { method: 'POST' });
    assert.equal((await rawCall(d.url, 'GET', '/v1/job/web/scale')).status, 200);
    assert.deepEqual(await rawCall(d.url, 'POST', '/v1/job/web/scale', { body: { Count: 1, Target: { Group: 'web' } } }).then((r) => [r.status, r.text]), [
      500,
      'only writes',
    ]);
    d.delay(200, { path: /\/allocations$/ });
    let t0 = Date.now();
    await rawCall(d.url, 'GET', '/v1/job/web');
    assert.ok(Date.now() - t0 < 150);
    t0 = Date.now();
    await rawCall(d.url, 'GET', '/v1/job/web/allocations');
    assert.ok(Date.now() - t0 >= 190);
    d.delay(0);
  });

  it('carries out a slow request whose client gave up, as Nomad does', async () => {
    d.delay(200, { method: 'POST' });
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 50);
    await fetch(`${d.url}/v1/job/web/scale`, { method: 'POST', body: JSON.stringify({ Count: 2, Target: { Group: 'web' } }), signal: ctl.signal }).catch(
      () => undefined,
    );
    d.delay(0);
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(d.job('web')!.TaskGroups[0].Count, 2);
  });
});

describe('the Nomad double deploys service jobs as the scheduler and the deployment watcher do', () => {
  let d: NomadDouble;
  before(async () => {
    d = await NomadDouble.start({ pendingDelayMs: 10 });
  });
  after(() => d.stop());
  const scale = (job: string, count: number) => rawCall(d.url, 'POST', `/v1/job/${job}/scale`, { body: { Count: count, Target: { Group: 'app' } } });
  const latest = async (job: string) => (await rawCall(d.url, 'GET', `/v1/job/${job}/deployment`)).json();
  const group = async (job: string) => (await rawCall(d.url, 'GET', `/v1/job/${job}/scale`)).json().TaskGroups.app;

  it('gives a service job without an update block the default strategy (api/jobs.go DefaultUpdateStrategy)', async () => {
    d.addJob({ ID: 'plain', TaskGroups: [{ Name: 'app', Count: 0 }] });
    const u = (await rawCall(d.url, 'GET', '/v1/job/plain')).json().TaskGroups[0].Update;
    assert.deepEqual([u.MaxParallel, u.HealthCheck, u.MinHealthyTime, u.HealthyDeadline, u.ProgressDeadline], [1, 'checks', 10e9, 300e9, 600e9]);
    assert.equal(await latest('plain'), null, 'a count of 0 deploys nothing');
  });

  it('starts a deployment on a scale up, and turns allocations healthy only after min_healthy_time', async () => {
    d.addJob({ ID: 'slow', Update: { MinHealthyTime: 200 * MS }, TaskGroups: [{ Name: 'app', Count: 0 }] });
    assert.equal((await scale('slow', 1)).status, 200);
    await sleep(60);
    assert.deepEqual([(await latest('slow')).Status, (await group('slow')).Running, (await group('slow')).Healthy], ['running', 1, 0]);
    assert.deepEqual([(await scale('slow', 2)).status, (await scale('slow', 2)).text], [400, 'job scaling blocked due to active deployment']);
    const dep = await latest('slow');
    assert.deepEqual([dep.TaskGroups.app.DesiredTotal, dep.TaskGroups.app.PlacedAllocs, dep.TaskGroups.app.HealthyAllocs], [1, 1, 0]);
    await sleep(250);
    assert.deepEqual([(await latest('slow')).Status, (await group('slow')).Healthy], ['successful', 1]);
    assert.equal((await scale('slow', 0)).status, 200);
  });

  it('never turns allocations healthy with manual health checks, and fails the deployment at its progress deadline', async () => {
    d.addJob({ ID: 'manual', Update: { HealthCheck: 'manual', ProgressDeadline: 150 * MS }, TaskGroups: [{ Name: 'app', Count: 0 }] });
    await scale('manual', 1);
    await sleep(80);
    assert.equal((await latest('manual')).Status, 'running');
    await sleep(200);
    const dep = await latest('manual');
    assert.deepEqual([dep.Status, dep.StatusDescription, (await group('manual')).Healthy], ['failed', 'Failed due to progress deadline', 0]);
  });

  it('starts no deployment with max_parallel = 0; the migrate strategy then judges health', async () => {
    d.addJob({ ID: 'off', Update: { MaxParallel: 0 }, TaskGroups: [{ Name: 'app', Count: 0, Migrate: { MinHealthyTime: 30 * MS } }] });
    await scale('off', 1);
    await sleep(100);
    assert.deepEqual([await latest('off'), (await group('off')).Healthy], [null, 1]);
  });

  it("never judges the health of a batch job's allocations", async () => {
    d.addJob({ ID: 'batch', Type: 'batch', TaskGroups: [{ Name: 'app', Count: 0 }] });
    await scale('batch', 1);
    await sleep(60);
    assert.deepEqual([await latest('batch'), (await group('batch')).Running, (await group('batch')).Healthy], [null, 1, 0]);
  });
});
