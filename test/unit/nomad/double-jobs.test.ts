// Register, read, stop and purge, following command/agent/job_endpoint.go and nomad/job_endpoint.go.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NO_DEPLOYMENTS, NomadDouble, rawCall } from '../../helpers/nomad';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the Nomad double registers, reads and deregisters jobs', () => {
  let d: NomadDouble;
  before(async () => {
    d = await NomadDouble.start({ pendingDelayMs: 10 });
  });
  after(() => d.stop());

  it('registers a job through PUT /v1/jobs and places its allocations', async () => {
    const r = await rawCall(d.url, 'PUT', '/v1/jobs', { body: { Job: { ID: 'reg', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'app', Count: 1 }] } } });
    assert.equal(r.status, 200);
    assert.ok(r.json().JobModifyIndex > 0);
    await sleep(50);
    const job = (await rawCall(d.url, 'GET', '/v1/job/reg')).json();
    assert.deepEqual([job.ID, job.Namespace, job.Type, job.Stop, job.Status, job.Version], ['reg', 'default', 'service', false, 'running', 0]);
  });

  it('defaults a missing count to 1, or to scaling.min when there is a scaling block', async () => {
    await rawCall(d.url, 'PUT', '/v1/jobs', { body: { Job: { ID: 'defaults', TaskGroups: [{ Name: 'a' }, { Name: 'b', Scaling: { Min: 0, Max: 4 } }] } } });
    const job = d.job('defaults')!;
    assert.deepEqual(
      job.TaskGroups.map((g) => g.Count),
      [1, 0],
    );
    assert.deepEqual([job.TaskGroups[1].Scaling!.Enabled, job.TaskGroups[1].Scaling!.Type], [true, 'horizontal']);
  });

  it("answers the HTTP layer's 400s for a body without Job, without Job.ID, or with a mismatched ID", async () => {
    const a = await rawCall(d.url, 'PUT', '/v1/jobs', { body: {} });
    assert.deepEqual([a.status, a.text], [400, 'Job must be specified']);
    const b = await rawCall(d.url, 'PUT', '/v1/jobs', { body: { Job: { TaskGroups: [] } } });
    assert.deepEqual([b.status, b.text], [400, "Job ID hasn't been provided"]);
    const c = await rawCall(d.url, 'POST', '/v1/job/one', { body: { Job: { ID: 'two', TaskGroups: [] } } });
    assert.deepEqual([c.status, c.text], [400, 'Job ID does not match name']);
  });

  it('refuses scaling blocks in system jobs with 400', async () => {
    const r = await rawCall(d.url, 'PUT', '/v1/jobs', { body: { Job: { ID: 's', Type: 'system', TaskGroups: [{ Name: 'a', Scaling: { Max: 1 } }] } } });
    assert.deepEqual([r.status, r.text], [400, 'Task groups with job type system do not support scaling blocks']);
  });

  it('answers 500 with a go-multierror list for a scaling block without max', async () => {
    const r = await rawCall(d.url, 'PUT', '/v1/jobs', { body: { Job: { ID: 'nomax', TaskGroups: [{ Name: 'a', Count: 1, Scaling: { Min: 0 } }] } } });
    assert.equal(r.status, 500);
    assert.match(r.text, /^1 error occurred:\n\t\* Task group a validation failed: /);
    assert.ok(r.text.includes('Scaling policy invalid: maximum count must be specified and non-negative'));
    assert.ok(r.text.includes('Scaling policy invalid: task group count must not be greater than maximum count in scaling policy'));
  });

  it('answers 500 for a job in a namespace that does not exist', async () => {
    const r = await rawCall(d.url, 'PUT', '/v1/jobs?namespace=nowhere', { body: { Job: { ID: 'lost', TaskGroups: [] } } });
    assert.equal(r.status, 500);
    assert.ok(r.text.includes('job "lost" is in nonexistent namespace "nowhere"'));
  });

  it('stops a job on DELETE, keeping it readable with Stop=true and stopping its allocations', async () => {
    const r = await rawCall(d.url, 'DELETE', '/v1/job/reg');
    assert.equal(r.status, 200);
    await sleep(30);
    const job = (await rawCall(d.url, 'GET', '/v1/job/reg')).json();
    assert.deepEqual([job.Stop, job.Status], [true, 'dead']);
    assert.ok(d.allocations('reg').every((a) => a.DesiredStatus === 'stop'));
  });

  it('starts a stopped job again when it is registered with Stop=false', async () => {
    const job = (await rawCall(d.url, 'GET', '/v1/job/reg')).json();
    const r = await rawCall(d.url, 'PUT', '/v1/jobs', { body: { Job: { ...job, Stop: false } } });
    assert.equal(r.status, 200);
    await sleep(50);
    const again = (await rawCall(d.url, 'GET', '/v1/job/reg')).json();
    assert.deepEqual([again.Stop, again.Status, again.Version], [false, 'running', 2]);
  });

  it("keeps Nomad's counts with PreserveCounts", async () => {
    await rawCall(d.url, 'POST', '/v1/job/reg/scale', { body: { Count: 3, Target: { Group: 'app' } } });
    await rawCall(d.url, 'PUT', '/v1/jobs', {
      body: { Job: { ID: 'reg', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'app', Count: 1 }], Meta: { v: '2' } }, PreserveCounts: true },
    });
    assert.equal(d.job('reg')!.TaskGroups[0].Count, 3);
  });

  it('enforces the job modify index on register', async () => {
    const r = await rawCall(d.url, 'PUT', '/v1/jobs', {
      body: { Job: { ID: 'reg', Update: NO_DEPLOYMENTS, TaskGroups: [] }, EnforceIndex: true, JobModifyIndex: 1 },
    });
    assert.equal(r.status, 500);
    assert.match(r.text, /^Enforcing job modify index 1: job exists with conflicting job modify index: \d+$/);
  });

  it('purges a job so that reads answer 404 "job not found"', async () => {
    assert.equal((await rawCall(d.url, 'DELETE', '/v1/job/reg?purge=true')).status, 200);
    const r = await rawCall(d.url, 'GET', '/v1/job/reg');
    assert.deepEqual([r.status, r.text], [404, 'job not found']);
  });

  it('answers 200 with empty fields when deregistering an unknown job', async () => {
    const r = await rawCall(d.url, 'DELETE', '/v1/job/never');
    assert.deepEqual([r.status, r.json().EvalID, r.json().JobModifyIndex], [200, '', 0]);
  });

  it('accepts job IDs with a slash, escaped in the path', async () => {
    d.addJob({ ID: 'batch/dispatch-1', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'g', Count: 0 }] });
    const r = await rawCall(d.url, 'GET', `/v1/job/${encodeURIComponent('batch/dispatch-1')}/scale`);
    assert.equal(r.status, 200);
    assert.equal(r.json().JobID, 'batch/dispatch-1');
  });
});
