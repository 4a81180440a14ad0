// Two racing scale calls against the double, per Nomad version: the JobModifyIndex check-and-set
// of nomad/job_endpoint.go Job.Scale (1.8.2+) and the state store's atomic EnforceIndex (2.0.1+).
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { NO_DEPLOYMENTS, NomadDouble, rawCall } from '../../helpers/nomad';

describe("the double checks a scale request's JobModifyIndex as the Nomad version it runs does", () => {
  let d: NomadDouble | undefined;
  afterEach(async () => {
    await d?.stop();
    d = undefined;
  });

  const scale = (job: string, body: Record<string, unknown>) =>
    rawCall(d!.url, 'POST', `/v1/job/${job}/scale`, { body: { Target: { Group: 'app' }, ...body } });
  const jmi = async (job: string): Promise<number> => (await rawCall(d!.url, 'GET', `/v1/job/${job}`)).json().JobModifyIndex;

  it('refuses a stale JobModifyIndex with the 500 "Enforcing job modify index" text (1.8.2 and later)', async () => {
    d = await NomadDouble.start({ pendingDelayMs: 5 });
    d.addJob({ ID: 'web', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'app', Count: 0 }] });
    const token = await jmi('web');
    assert.equal((await scale('web', { Count: 1, JobModifyIndex: token })).status, 200);
    const r = await scale('web', { Count: 2, JobModifyIndex: token });
    assert.equal(r.status, 500);
    assert.equal(r.text, `Enforcing job modify index ${token}: job exists with conflicting job modify index: ${await jmi('web')}`);
    assert.equal(d.job('web')!.TaskGroups[0].Count, 1);
  });

  it("takes the scale status JobModifyIndex (the job's ModifyIndex) as a conflict once allocations moved it", async () => {
    d = await NomadDouble.start({ pendingDelayMs: 5 });
    d.addJob({ ID: 'web', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'app', Count: 1 }] });
    await new Promise((r) => setTimeout(r, 40)); // placed and running: the job's status moved its ModifyIndex
    const status = (await rawCall(d.url, 'GET', '/v1/job/web/scale')).json();
    assert.notEqual(status.JobModifyIndex, await jmi('web'));
    assert.equal((await scale('web', { Count: 2, JobModifyIndex: status.JobModifyIndex })).status, 500);
  });

  it('ignores JobModifyIndex on servers older than 1.8.2', async () => {
    d = await NomadDouble.start({ server: { version: '1.8.1' } });
    d.addJob({ ID: 'web', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'app', Count: 0 }] });
    assert.equal((await scale('web', { Count: 1, JobModifyIndex: 1 })).status, 200);
  });

  it('lets one of two scales that read the same snapshot commit and fails the other (2.0.1 and later)', async () => {
    d = await NomadDouble.start({ server: { commitDelayMs: 30 } });
    d.addJob({ ID: 'web', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'app', Count: 0 }] });
    const token = await jmi('web');
    const [a, b] = await Promise.all([scale('web', { Count: 1, JobModifyIndex: token }), scale('web', { Count: 2, JobModifyIndex: token })]);
    assert.deepEqual([a.status, b.status].sort(), [200, 500]);
    const loser = a.status === 500 ? a : b;
    assert.equal(loser.text, `Enforcing job modify index ${token}: job exists with conflicting job modify index: ${await jmi('web')}`);
    assert.equal(d.job('web')!.TaskGroups[0].Count, a.status === 200 ? 1 : 2);
  });

  it('lets both commit before 2.0.1, the later one overwriting the first (the snapshot window)', async () => {
    d = await NomadDouble.start({ server: { version: '2.0.0', commitDelayMs: 30 } });
    d.addJob({
      ID: 'web',
      Update: NO_DEPLOYMENTS,
      TaskGroups: [
        { Name: 'app', Count: 0 },
        { Name: 'db', Count: 0 },
      ],
    });
    const token = await jmi('web');
    const [a, b] = await Promise.all([
      scale('web', { Count: 1, JobModifyIndex: token }),
      scale('web', { Count: 1, JobModifyIndex: token, Target: { Group: 'db' } }),
    ]);
    assert.deepEqual([a.status, b.status], [200, 200]);
    // The later commit wrote its snapshot's copy: the other group's new count is lost.
    assert.deepEqual(
      d
        .job('web')!
        .TaskGroups.map((g) => g.Count)
        .sort(),
      [0, 1],
    );
  });
});
