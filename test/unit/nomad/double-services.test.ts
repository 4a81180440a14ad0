// Nomad's service catalogue in the double: GET /v1/services, GET and DELETE /v1/service/...
// (command/agent/service_registration_endpoint.go, nomad/service_registration_endpoint.go), filled
// by running allocations of groups with provider "nomad" services (client/serviceregistration/nsd).
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { NO_DEPLOYMENTS, NomadDouble, rawCall } from '../../helpers/nomad';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const N = (i: number) => `0000000${i}-0000-4000-8000-000000000000`;
const NODES = [
  { ID: N(1), Name: 'n1', Address: '10.0.0.1' },
  { ID: N(2), Name: 'n2', Address: '10.0.0.2', Datacenter: 'dc2' },
];
const WEB = {
  ID: 'web',
  Update: NO_DEPLOYMENTS,
  TaskGroups: [
    {
      Name: 'app',
      Count: 2,
      Services: [
        { Name: 'web', Provider: 'nomad' as const, Tags: ['http', 'v1'], PortLabel: 'http' },
        { Name: 'web-consul', Tags: ['x'], PortLabel: 'http' },
      ],
    },
  ],
};

describe('the double serves the services its running allocations register', () => {
  let d: NomadDouble | undefined;
  afterEach(async () => {
    await d?.stop();
    d = undefined;
  });

  it('registers a running allocation\'s "nomad" services with its node, job, alloc and a dynamic port; not consul ones', async () => {
    d = await NomadDouble.start({ nodes: NODES, pendingDelayMs: 150 });
    d.addJob(WEB);
    await sleep(20);
    assert.equal(d.allocations('web').length, 2);
    assert.deepEqual((await rawCall(d.url, 'GET', '/v1/service/web')).json(), [], 'pending allocations register nothing');
    await sleep(200);
    const r = await rawCall(d.url, 'GET', '/v1/service/web');
    assert.equal(r.status, 200);
    const regs = r.json();
    const allocs = d.allocations('web');
    assert.equal(regs.length, 2);
    for (const reg of regs) {
      const a = allocs.find((x) => x.ID === reg.AllocID)!;
      const node = NODES.find((n) => n.ID === a.NodeID)!;
      assert.deepEqual(reg, {
        ID: `_nomad-task-${a.ID}-group-app-web-http`,
        ServiceName: 'web',
        Namespace: 'default',
        NodeID: node.ID,
        Datacenter: node.Datacenter ?? 'dc1',
        JobID: 'web',
        AllocID: a.ID,
        Tags: ['http', 'v1'],
        Address: node.Address,
        Port: 20000,
        CreateIndex: reg.CreateIndex,
        ModifyIndex: reg.CreateIndex,
      });
    }
    assert.deepEqual(
      regs.map((x: { ID: string }) => x.ID),
      regs.map((x: { ID: string }) => x.ID).sort(),
    );
    assert.equal(r.headers.get('x-nomad-index'), String(Math.max(...regs.map((x: { CreateIndex: number }) => x.CreateIndex))));
    assert.deepEqual((await rawCall(d.url, 'GET', '/v1/service/web-consul')).json(), []);
  });

  it('lists services per namespace with their tags merged', async () => {
    d = await NomadDouble.start({ namespaces: ['prod'] });
    d.registerService({ ID: 'a', ServiceName: 'db', NodeID: 'n', JobID: 'j', AllocID: 'x', Tags: ['primary'], Address: '10.0.0.9', Port: 5432 });
    d.registerService({ ID: 'b', ServiceName: 'db', NodeID: 'n', JobID: 'j', AllocID: 'y', Tags: ['replica'], Address: '10.0.0.8', Port: 5432 });
    d.registerService({ ID: 'c', ServiceName: 'api', Namespace: 'prod', NodeID: 'n', JobID: 'k', AllocID: 'z', Address: '10.0.0.7', Port: 80 });
    const r = await rawCall(d.url, 'GET', '/v1/services');
    assert.deepEqual(r.json(), [{ Namespace: 'default', Services: [{ ServiceName: 'db', Tags: ['primary', 'replica'] }] }]);
    assert.equal(r.headers.get('x-nomad-index'), String(d.currentIndex()));
    assert.deepEqual((await rawCall(d.url, 'GET', '/v1/services?namespace=prod')).json(), [
      { Namespace: 'prod', Services: [{ ServiceName: 'api', Tags: [] }] },
    ]);
    assert.deepEqual(
      (await rawCall(d.url, 'GET', '/v1/services?namespace=*')).json().map((x: { Namespace: string }) => x.Namespace),
      ['default', 'prod'],
    );
    assert.deepEqual(
      (await rawCall(d.url, 'GET', '/v1/service/api?namespace=prod')).json().map((x: { ID: string }) => x.ID),
      ['c'],
    );
    assert.deepEqual((await rawCall(d.url, 'GET', '/v1/service/api')).json(), []);
  });

  it('answers [] with index 1 when nothing is registered', async () => {
    d = await NomadDouble.start();
    const r = await rawCall(d.url, 'GET', '/v1/services');
    assert.deepEqual([r.status, r.json(), r.headers.get('x-nomad-index')], [200, [], '1']);
  });

  it("removes an allocation's registrations when it stops, and wakes a blocking read", async () => {
    d = await NomadDouble.start({ nodes: NODES, pendingDelayMs: 5 });
    d.addJob(WEB);
    await sleep(40);
    const before = await rawCall(d.url, 'GET', '/v1/service/web');
    assert.equal(before.json().length, 2);
    const waiting = rawCall(d.url, 'GET', `/v1/service/web?index=${before.headers.get('x-nomad-index')}&wait=5s`);
    await rawCall(d.url, 'POST', '/v1/job/web/scale', { body: { Count: 1, Target: { Group: 'app' } } });
    const after = (await waiting).json();
    assert.equal(after.length, 1);
    const live = d.allocations('web').find((a) => a.DesiredStatus === 'run')!;
    assert.equal(after[0].AllocID, live.ID);
  });

  it('answers the request errors of service_registration_endpoint.go', async () => {
    d = await NomadDouble.start();
    d.registerService({ ID: 'a', ServiceName: 'db', NodeID: 'n', JobID: 'j', AllocID: 'x', Address: '10.0.0.9', Port: 5432 });
    const cases: Array<[string, string, number, string]> = [
      ['PUT', '/v1/services', 405, 'Invalid method'],
      ['GET', '/v1/service/', 400, 'missing service name'],
      ['PUT', '/v1/service/db', 405, 'Invalid method'],
      ['GET', '/v1/service/db/a', 405, 'Invalid method'],
      ['DELETE', '/v1/service/db/', 400, 'missing service id'],
      ['GET', '/v1/service/db/a/b', 400, 'invalid URI'],
      ['DELETE', '/v1/service/db/nope', 500, 'service registration not found'],
    ];
    for (const [method, path, status, text] of cases) {
      const r = await rawCall(d.url, method, path);
      assert.deepEqual([r.status, r.text], [status, text], `${method} ${path}`);
    }
    const del = await rawCall(d.url, 'DELETE', '/v1/service/db/a');
    assert.deepEqual([del.status, del.text, del.headers.get('x-nomad-index')], [200, '', String(d.currentIndex())]);
    assert.deepEqual(d.services(), []);
  });

  it('needs read-job in the namespace to read, submit-job (or delete-service-registration) to delete; a workload identity may read', async () => {
    d = await NomadDouble.start({
      acl: true,
      namespaces: ['prod'],
      tokens: [
        { secretId: 'reader', rules: [{ namespace: 'default', policy: 'read' }] },
        { secretId: 'writer', rules: [{ namespace: 'default', policy: 'write' }] },
        { secretId: 'wi', workload: { namespace: 'prod', job: 'j', group: 'g', task: 't' } },
      ],
    });
    d.registerService({ ID: 'a', ServiceName: 'db', NodeID: 'n', JobID: 'j', AllocID: 'x', Address: '10.0.0.9', Port: 5432 });
    d.registerService({ ID: 'p', ServiceName: 'db', Namespace: 'prod', NodeID: 'n', JobID: 'j', AllocID: 'y', Address: '10.0.0.9', Port: 5432 });
    const denied = (r: { status: number; text: string }, what: string) => assert.deepEqual([r.status, r.text], [403, 'Permission denied'], what);
    assert.equal((await rawCall(d.url, 'GET', '/v1/service/db', { token: 'reader' })).json().length, 1);
    denied(await rawCall(d.url, 'GET', '/v1/service/db?namespace=prod', { token: 'reader' }), 'reader in prod');
    denied(await rawCall(d.url, 'GET', '/v1/services', {}), 'anonymous');
    denied(await rawCall(d.url, 'GET', '/v1/services', { token: 'unknown' }), 'unknown');
    assert.deepEqual(
      (await rawCall(d.url, 'GET', '/v1/services?namespace=*', { token: 'reader' })).json().map((x: { Namespace: string }) => x.Namespace),
      ['default'],
    );
    assert.deepEqual((await rawCall(d.url, 'GET', '/v1/services?namespace=*')).json(), [], 'anonymous: no namespace to read');
    assert.equal((await rawCall(d.url, 'GET', '/v1/service/db', { token: 'wi' })).status, 200);
    denied(await rawCall(d.url, 'DELETE', '/v1/service/db/a', { token: 'reader' }), 'reader deletes');
    assert.equal((await rawCall(d.url, 'DELETE', '/v1/service/db/a', { token: 'writer' })).status, 200);
  });
});
