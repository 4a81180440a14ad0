// Allocations placed by the double's scheduler, and blocking queries (nomad/rpc.go blockingRPC).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NO_DEPLOYMENTS, NomadDouble, parseGoDuration, rawCall } from '../../helpers/nomad';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the Nomad double places allocations and answers blocking queries', () => {
  let d: NomadDouble;
  before(async () => {
    d = await NomadDouble.start({ pendingDelayMs: 150 });
  });
  after(() => d.stop());

  it('starts scaled-up allocations pending, then running, and healthy after the migrate min_healthy_time outside a deployment', async () => {
    d.addJob({ ID: 'api', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'app', Count: 0, Migrate: { MinHealthyTime: 0 } }] });
    await rawCall(d.url, 'POST', '/v1/job/api/scale', { body: { Count: 2, Target: { Group: 'app' } } });
    await sleep(30);
    let allocs = (await rawCall(d.url, 'GET', '/v1/job/api/allocations')).json();
    assert.deepEqual(
      allocs.map((a: any) => a.ClientStatus),
      ['pending', 'pending'],
    );
    assert.deepEqual(allocs.map((a: any) => a.Name).sort(), ['api.app[0]', 'api.app[1]']);
    await sleep(200);
    allocs = (await rawCall(d.url, 'GET', '/v1/job/api/allocations')).json();
    assert.deepEqual(
      allocs.map((a: any) => [a.ClientStatus, a.DeploymentStatus.Healthy]),
      [
        ['running', true],
        ['running', true],
      ],
    );
    const s = (await rawCall(d.url, 'GET', '/v1/job/api/scale')).json().TaskGroups.app;
    assert.deepEqual([s.Desired, s.Placed, s.Running, s.Healthy, s.Unhealthy], [2, 2, 2, 2, 0]);
  });

  it('stops allocations on scale-down and no longer counts them as placed', async () => {
    await rawCall(d.url, 'POST', '/v1/job/api/scale', { body: { Count: 0, Target: { Group: 'app' } } });
    await sleep(20);
    const allocs = (await rawCall(d.url, 'GET', '/v1/job/api/allocations')).json();
    assert.deepEqual(
      allocs.map((a: any) => [a.DesiredStatus, a.ClientStatus]),
      [
        ['stop', 'complete'],
        ['stop', 'complete'],
      ],
    );
    const s = (await rawCall(d.url, 'GET', '/v1/job/api/scale')).json().TaskGroups.app;
    assert.deepEqual([s.Desired, s.Placed, s.Running], [0, 0, 0]);
  });

  it('reads one allocation, and answers 404 "alloc not found" for an unknown one', async () => {
    const [a] = (await rawCall(d.url, 'GET', '/v1/job/api/allocations')).json();
    const one = await rawCall(d.url, 'GET', `/v1/allocation/${a.ID}`);
    assert.equal(one.status, 200);
    assert.equal(one.json().ID, a.ID);
    const none = await rawCall(d.url, 'GET', '/v1/allocation/00000000-0000-0000-0000-000000000000');
    assert.deepEqual([none.status, none.text], [404, 'alloc not found']);
  });

  it('lists no allocations (200, []) for an unknown job', async () => {
    const r = await rawCall(d.url, 'GET', '/v1/job/ghost/allocations');
    assert.deepEqual([r.status, r.json()], [200, []]);
  });

  it('sets X-Nomad-Index, X-Nomad-KnownLeader and X-Nomad-LastContact on reads', async () => {
    const r = await rawCall(d.url, 'GET', '/v1/job/api/scale');
    assert.ok(Number(r.headers.get('x-nomad-index')) > 0);
    assert.equal(r.headers.get('x-nomad-knownleader'), 'true');
    assert.equal(r.headers.get('x-nomad-lastcontact'), '0');
  });

  it('holds a blocking scale-status query until the index moves, then answers with the change', async () => {
    d.addJob({ ID: 'blocky', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'app', Count: 0 }] });
    const first = await rawCall(d.url, 'GET', '/v1/job/blocky/scale');
    const index = Number(first.headers.get('x-nomad-index'));
    const started = Date.now();
    const pending = rawCall(d.url, 'GET', `/v1/job/blocky/scale?index=${index}&wait=5s`);
    await sleep(100);
    await rawCall(d.url, 'POST', '/v1/job/blocky/scale', { body: { Count: 1, Target: { Group: 'app' } } });
    const r = await pending;
    const took = Date.now() - started;
    assert.ok(took >= 90 && took < 2000, `answered after ${took} ms`);
    assert.ok(Number(r.headers.get('x-nomad-index')) > index);
    assert.equal(r.json().TaskGroups.app.Desired, 1);
  });

  it('answers a blocking query at the wait time, with the unchanged index, when nothing changes', async () => {
    const first = await rawCall(d.url, 'GET', '/v1/job/api/scale');
    const index = Number(first.headers.get('x-nomad-index'));
    const started = Date.now();
    const r = await rawCall(d.url, 'GET', `/v1/job/api/scale?index=${index}&wait=300ms`);
    const took = Date.now() - started;
    assert.ok(took >= 290 && took < 300 + 300 / 16 + 250, `answered after ${took} ms`);
    assert.equal(Number(r.headers.get('x-nomad-index')), index);
  });

  it('answers at once when the asked index is already behind', async () => {
    const started = Date.now();
    const r = await rawCall(d.url, 'GET', '/v1/job/api/scale?index=1&wait=5s');
    assert.equal(r.status, 200);
    assert.ok(Date.now() - started < 1000);
  });

  it('holds a blocking allocations query until an allocation changes', async () => {
    d.addJob({ ID: 'allocs', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'app', Count: 0 }] });
    const first = await rawCall(d.url, 'GET', '/v1/job/allocs/allocations');
    const index = Number(first.headers.get('x-nomad-index'));
    const pending = rawCall(d.url, 'GET', `/v1/job/allocs/allocations?index=${index}&wait=5s`);
    await sleep(50);
    await rawCall(d.url, 'POST', '/v1/job/allocs/scale', { body: { Count: 1, Target: { Group: 'app' } } });
    const r = await pending;
    assert.ok(Number(r.headers.get('x-nomad-index')) > index);
    assert.equal(r.json().length, 1);
  });

  it('rejects a malformed wait or index as parseWait does', async () => {
    const a = await rawCall(d.url, 'GET', '/v1/job/api/scale?index=1&wait=5');
    assert.deepEqual([a.status, a.text], [400, 'Invalid wait time']);
    const b = await rawCall(d.url, 'GET', '/v1/job/api/scale?index=x');
    assert.deepEqual([b.status, b.text], [400, 'Invalid index']);
  });

  it('parses Go durations', () => {
    assert.equal(parseGoDuration('1m30s'), 90_000);
    assert.equal(parseGoDuration('250ms'), 250);
    assert.equal(parseGoDuration('1.5s'), 1500);
    assert.equal(parseGoDuration('0'), 0);
    assert.equal(parseGoDuration('10'), undefined);
  });
});
