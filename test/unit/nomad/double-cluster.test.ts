// Cluster-wide behaviour of the double: stopping a job (nomad/fsm.go handleJobDeregister),
// job_max_count (nomad/job_endpoint.go Job.Scale, job_endpoint_hooks.go), the scheduler
// configuration's RejectJobRegistration (registrationsAreAllowed) and leader loss (nomad/rpc.go).
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { NO_DEPLOYMENTS, NomadDouble, rawCall } from '../../helpers/nomad';

describe('the double behaves like a Nomad cluster', () => {
  let d: NomadDouble | undefined;
  afterEach(async () => {
    await d?.stop();
    d = undefined;
  });

  it('disables the scaling policies of a job it stops, and re-registering it keeps them off', async () => {
    d = await NomadDouble.start();
    d.addJob({ ID: 'web', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'app', Count: 1, Scaling: { Min: 0, Max: 3 } }] });
    assert.equal((await rawCall(d.url, 'DELETE', '/v1/job/web')).status, 200);
    const stopped = (await rawCall(d.url, 'GET', '/v1/job/web')).json();
    assert.equal(stopped.TaskGroups[0].Scaling.Enabled, false);
    assert.equal((await rawCall(d.url, 'PUT', '/v1/jobs', { body: { Job: { ...stopped, Stop: false } } })).status, 200);
    assert.equal(d.job('web')!.TaskGroups[0].Scaling!.Enabled, false);
    const versions = (await rawCall(d.url, 'GET', '/v1/job/web/versions')).json().Versions;
    assert.deepEqual(
      versions.map((v: any) => [v.Version, v.Stop, v.TaskGroups[0].Scaling.Enabled]),
      [
        [2, false, false],
        [1, true, false],
        [0, false, true],
      ],
    );
    assert.equal((await rawCall(d.url, 'GET', '/v1/job/ghost/versions')).text, 'job versions not found');
  });

  it("refuses a scale over job_max_count with Job.Scale's 500 text, and a registration with the validator's", async () => {
    d = await NomadDouble.start({ server: { jobMaxCount: 4 } });
    d.addJob({
      ID: 'web',
      Update: NO_DEPLOYMENTS,
      TaskGroups: [
        { Name: 'app', Count: 1 },
        { Name: 'db', Count: 2 },
      ],
    });
    const r = await rawCall(d.url, 'POST', '/v1/job/web/scale', { body: { Count: 3, Target: { Group: 'app' } } });
    assert.equal(r.status, 500);
    assert.equal(r.text, 'total count was greater than configured job_max_count: 5 > 4');
    const reg = await rawCall(d.url, 'PUT', '/v1/jobs', { body: { Job: { ID: 'big', TaskGroups: [{ Name: 'g', Count: 5 }] } } });
    assert.equal(reg.status, 500);
    assert.equal(reg.text, '1 error occurred:\n\t* total count was greater than configured job_max_count: 5 > 4\n\n');
  });

  it('refuses scale and register from non-management tokens while registration is rejected', async () => {
    d = await NomadDouble.start({
      acl: true,
      tokens: [
        { secretId: 'ops', rules: [{ namespace: 'default', policy: 'write' }] },
        { secretId: 'root', management: true },
      ],
    });
    d.addJob({ ID: 'web', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'app', Count: 0 }] });
    const set = await rawCall(d.url, 'PUT', '/v1/operator/scheduler/configuration', { token: 'root', body: { RejectJobRegistration: true } });
    assert.equal(set.status, 200);
    const r = await rawCall(d.url, 'POST', '/v1/job/web/scale', { token: 'ops', body: { Count: 1, Target: { Group: 'app' } } });
    assert.equal(r.status, 403);
    assert.equal(r.text, 'Job registration, dispatch, and scale are disabled by the scheduler configuration');
    assert.equal((await rawCall(d.url, 'POST', '/v1/job/web/scale', { token: 'root', body: { Count: 1, Target: { Group: 'app' } } })).status, 200);
    d.setRejectJobRegistration(false);
    assert.equal((await rawCall(d.url, 'POST', '/v1/job/web/scale', { token: 'ops', body: { Count: 2, Target: { Group: 'app' } } })).status, 200);
  });

  it('answers 500 "No cluster leader" without a leader, except to stale reads, until one is elected', async () => {
    d = await NomadDouble.start();
    d.addJob({ ID: 'web', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'app', Count: 0 }] });
    d.setLeader(false);
    const r = await rawCall(d.url, 'POST', '/v1/job/web/scale', { body: { Count: 1, Target: { Group: 'app' } } });
    assert.deepEqual([r.status, r.text], [500, 'No cluster leader']);
    assert.equal((await rawCall(d.url, 'GET', '/v1/job/web/scale')).status, 500);
    const stale = await rawCall(d.url, 'GET', '/v1/job/web/scale?stale=true');
    assert.deepEqual([stale.status, stale.headers.get('x-nomad-knownleader')], [200, 'false']);
    d.setLeader(true);
    assert.equal((await rawCall(d.url, 'POST', '/v1/job/web/scale', { body: { Count: 1, Target: { Group: 'app' } } })).status, 200);
  });
});
