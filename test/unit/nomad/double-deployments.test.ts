// The double's deployments, as Job.LatestDeployment and Job.Scale see them, and faults aimed at some requests only.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NomadDouble, rawCall } from '../../helpers/nomad';

describe('the Nomad double models deployments', () => {
  let d: NomadDouble;
  before(async () => {
    d = await NomadDouble.start({ pendingDelayMs: 20 });
    d.addJob({ ID: 'web', TaskGroups: [{ Name: 'web', Count: 0 }] });
    d.addJob({ ID: 'api', TaskGroups: [{ Name: 'api', Count: 1 }] });
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
    assert.deepEqual(await rawCall(d.url, 'POST', '/v1/job/web/scale', { body: { Count: 1, Target: { Group: 'web' } } }).then((r) => [r.status, r.text]), [500, 'only writes']);
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
    await fetch(`${d.url}/v1/job/web/scale`, { method: 'POST', body: JSON.stringify({ Count: 2, Target: { Group: 'web' } }), signal: ctl.signal }).catch(() => undefined);
    d.delay(0);
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(d.job('web')!.TaskGroups[0].Count, 2);
  });
});
