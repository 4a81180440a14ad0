// The double's POST/GET /v1/job/:id/scale follow nomad/job_endpoint.go Job.Scale / ScaleStatus.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NO_DEPLOYMENTS, NomadDouble, rawCall } from '../../helpers/nomad';

describe('the Nomad double scales task groups as Job.Scale does', () => {
  let d: NomadDouble;
  before(async () => {
    d = await NomadDouble.start({ pendingDelayMs: 10 });
    d.addJob({ ID: 'web', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'app', Count: 1 }] });
    d.addJob({ ID: 'bounded', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'app', Count: 2, Scaling: { Min: 1, Max: 3 } }] });
    d.addJob({ ID: 'implicit-min', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'app', Count: 1, Scaling: { Max: 5 } }] });
    d.addJob({ ID: 'sys', Update: NO_DEPLOYMENTS, Type: 'system', TaskGroups: [{ Name: 'agent', Count: 1 }] });
    d.addJob({ ID: 'stopped', Update: NO_DEPLOYMENTS, Stop: true, TaskGroups: [{ Name: 'app', Count: 0 }] });
  });
  after(() => d.stop());

  const scale = (job: string, body: unknown) => rawCall(d.url, 'POST', `/v1/job/${job}/scale`, { body });

  it('lets a group without a scaling block go from 1 to 0, since min/max apply only to a scaling block', async () => {
    const r = await scale('web', { Count: 0, Target: { Group: 'app' }, Message: 'idle' });
    assert.equal(r.status, 200);
    const body = r.json();
    assert.deepEqual(Object.keys(body).slice(0, 5), ['EvalID', 'EvalCreateIndex', 'JobModifyIndex', 'Warnings', 'Index']);
    assert.match(body.EvalID, /^[0-9a-f-]{36}$/);
    assert.equal(r.headers.get('x-nomad-index'), String(body.Index));
    assert.ok(body.Index > body.EvalCreateIndex && body.EvalCreateIndex > body.JobModifyIndex);
    assert.equal(d.job('web')!.TaskGroups[0].Count, 0);
  });

  it('refuses a count under the minimum with the exact text', async () => {
    const r = await scale('bounded', { Count: 0, Target: { Group: 'app' } });
    assert.equal(r.status, 400);
    assert.equal(r.text, 'group count was less than scaling policy minimum: 0 < 1');
  });

  it('refuses a count over the maximum with the exact text', async () => {
    const r = await scale('bounded', { Count: 4, Target: { Group: 'app' } });
    assert.equal(r.status, 400);
    assert.equal(r.text, 'group count was greater than scaling policy maximum: 4 > 3');
  });

  it('gives a scaling block without min a minimum of the group count, so count 1 cannot go to 0', async () => {
    const r = await scale('implicit-min', { Count: 0, Target: { Group: 'app' } });
    assert.equal(r.status, 400);
    assert.equal(r.text, 'group count was less than scaling policy minimum: 0 < 1');
    assert.equal(d.job('implicit-min')!.TaskGroups[0].Scaling!.Min, 1);
  });

  it("answers 404 with Job.Scale's own text for an unknown job", async () => {
    const r = await scale('nope', { Count: 1, Target: { Group: 'app' } });
    assert.equal(r.status, 404);
    assert.equal(r.text, 'job "nope" not found');
  });

  it('answers 400 for a missing group name', async () => {
    const r = await scale('web', { Count: 1, Target: {} });
    assert.equal(r.status, 400);
    assert.equal(r.text, 'missing task group name for scaling action');
  });

  it('answers 400 for an unknown group', async () => {
    const r = await scale('web', { Count: 1, Target: { Group: 'db' } });
    assert.equal(r.status, 400);
    assert.equal(r.text, 'task group "db" specified for scaling does not exist in job');
  });

  it('answers 400 for a negative count', async () => {
    const r = await scale('web', { Count: -1, Target: { Group: 'app' } });
    assert.equal(r.status, 400);
    assert.equal(r.text, "scaling action count can't be negative");
  });

  it('answers 400 for a count given with Error=true', async () => {
    const r = await scale('web', { Count: 1, Error: true, Target: { Group: 'app' } });
    assert.equal(r.status, 400);
    assert.equal(r.text, 'scaling action should not contain count if error is true');
  });

  it('answers 400 when Target.Job differs from the URL, and when Target.Namespace differs from the query', async () => {
    const a = await scale('web', { Count: 1, Target: { Group: 'app', Job: 'other' } });
    assert.deepEqual([a.status, a.text], [400, 'job ID in payload did not match URL']);
    const b = await scale('web', { Count: 1, Target: { Group: 'app', Namespace: 'prod' } });
    assert.deepEqual([b.status, b.text], [400, 'namespace in payload did not match header']);
  });

  it('answers 400 for an empty body', async () => {
    const r = await rawCall(d.url, 'POST', '/v1/job/web/scale');
    assert.deepEqual([r.status, r.text], [400, 'Request body is empty']);
  });

  it('keeps system jobs between 0 and 1', async () => {
    const r = await scale('sys', { Count: 2, Target: { Group: 'agent' } });
    assert.deepEqual([r.status, r.text], [400, 'jobs of type "system" can only be scaled between 0 and 1']);
  });

  it('blocks count changes during an active deployment with the exact text, and records no event', async () => {
    d.setActiveDeployment('bounded', true);
    const r = await scale('bounded', { Count: 3, Target: { Group: 'app' } });
    assert.deepEqual([r.status, r.text], [400, 'job scaling blocked due to active deployment']);
    d.setActiveDeployment('bounded', false);
    const s = (await rawCall(d.url, 'GET', '/v1/job/bounded/scale')).json();
    assert.equal(s.TaskGroups.app.Events, null);
    assert.equal((await scale('bounded', { Count: 3, Target: { Group: 'app' } })).status, 200);
  });

  it("enforces JobModifyIndex as a 500 like Nomad's plain errors", async () => {
    const r = await scale('web', { Count: 1, Target: { Group: 'app' }, JobModifyIndex: 1 });
    assert.equal(r.status, 500);
    assert.match(r.text, /^Enforcing job modify index 1: job exists with conflicting job modify index: \d+$/);
  });

  it('scales a stopped job: the count changes, the job stays stopped and nothing is placed', async () => {
    const r = await scale('stopped', { Count: 2, Target: { Group: 'app' } });
    assert.equal(r.status, 200);
    await new Promise((res) => setTimeout(res, 50));
    const s = (await rawCall(d.url, 'GET', '/v1/job/stopped/scale')).json();
    assert.equal(s.JobStopped, true);
    assert.deepEqual([s.TaskGroups.app.Desired, s.TaskGroups.app.Placed], [2, 0]);
    assert.equal(d.allocations('stopped').length, 0);
  });

  it('records scaling events newest first with count, previous count, message, meta and eval', async () => {
    d.addJob({ ID: 'events', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'app', Count: 0 }] });
    const first = (await scale('events', { Count: 1, Target: { Group: 'app' }, Message: 'traffic', Meta: { peer: '10.0.0.1' } })).json();
    await scale('events', { Target: { Group: 'app' }, Message: 'note only' });
    const r = await rawCall(d.url, 'GET', '/v1/job/events/scale');
    const s = r.json();
    assert.deepEqual(Object.keys(s), ['JobID', 'Namespace', 'JobCreateIndex', 'JobModifyIndex', 'JobStopped', 'TaskGroups']);
    const [noteOnly, up] = s.TaskGroups.app.Events;
    assert.deepEqual([noteOnly.Count, noteOnly.PreviousCount, noteOnly.Message, noteOnly.EvalID], [null, 1, 'note only', null]);
    assert.deepEqual([up.Count, up.PreviousCount, up.Message, up.Meta, up.EvalID, up.Error], [1, 0, 'traffic', { peer: '10.0.0.1' }, first.EvalID, false]);
    assert.ok(up.Time > 1.6e18, 'Time is Unix nanoseconds');
    assert.equal(up.CreateIndex, first.Index);
  });

  it('keeps only the 20 newest events per group', async () => {
    d.addJob({ ID: 'chatty', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'app', Count: 0 }] });
    for (let i = 0; i < 22; i++) await scale('chatty', { Target: { Group: 'app' }, Message: `m${i}` });
    const ev = (await rawCall(d.url, 'GET', '/v1/job/chatty/scale')).json().TaskGroups.app.Events;
    assert.equal(ev.length, 20);
    assert.equal(ev[0].Message, 'm21');
  });

  it('answers GET scale of an unknown job with 404 "job not found" and still an X-Nomad-Index', async () => {
    const r = await rawCall(d.url, 'GET', '/v1/job/ghost/scale');
    assert.deepEqual([r.status, r.text], [404, 'job not found']);
    assert.ok(Number(r.headers.get('x-nomad-index')) > 0);
  });

  it('answers 405 "Invalid method" for DELETE on /scale', async () => {
    const r = await rawCall(d.url, 'DELETE', '/v1/job/web/scale');
    assert.deepEqual([r.status, r.text], [405, 'Invalid method']);
  });
});
