// Client nodes in the double: GET /v1/nodes, GET /v1/node/:id (command/agent/node_endpoint.go,
// nomad/node_endpoint.go Node.List / Node.GetNode), and where the scheduler places allocations.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { DEFAULT_NODE, NO_DEPLOYMENTS, NomadDouble, rawCall } from '../../helpers/nomad';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const N = (i: number) => `0000000${i}-0000-4000-8000-000000000000`;
const THREE = [
  { ID: N(1), Name: 'n1', Address: '10.0.0.1' },
  { ID: N(2), Name: 'n2', Address: '10.0.0.2', Datacenter: 'dc2' },
  { ID: N(3), Name: 'n3', Address: '10.0.0.3' },
];

describe('the double keeps client nodes', () => {
  let d: NomadDouble | undefined;
  afterEach(async () => {
    await d?.stop();
    d = undefined;
  });

  it('has one ready node by default', async () => {
    d = await NomadDouble.start();
    const r = await rawCall(d.url, 'GET', '/v1/nodes');
    assert.equal(r.status, 200);
    const nodes = r.json();
    assert.deepEqual(
      nodes.map((n: { ID: string; Name: string; Status: string; SchedulingEligibility: string }) => [n.ID, n.Name, n.Status, n.SchedulingEligibility]),
      [[DEFAULT_NODE.ID, 'double-node', 'ready', 'eligible']],
    );
  });

  it('lists NodeListStubs sorted by ID, with the nodes table index, Attributes only with ?os=true, and ?prefix=', async () => {
    d = await NomadDouble.start({ nodes: [THREE[2], THREE[0], THREE[1]] });
    const r = await rawCall(d.url, 'GET', '/v1/nodes');
    const nodes = r.json();
    assert.deepEqual(
      nodes.map((n: { Name: string }) => n.Name),
      ['n1', 'n2', 'n3'],
    );
    assert.deepEqual(Object.keys(nodes[0]), [
      'Address',
      'ID',
      'Datacenter',
      'Name',
      'NodePool',
      'NodeClass',
      'Version',
      'Drain',
      'SchedulingEligibility',
      'Status',
      'StatusDescription',
      'Drivers',
      'HostVolumes',
      'LastDrain',
      'CreateIndex',
      'ModifyIndex',
    ]);
    assert.deepEqual([nodes[1].Address, nodes[1].Datacenter, nodes[1].Version], ['10.0.0.2', 'dc2', '2.0.6']);
    assert.equal(r.headers.get('x-nomad-index'), String(d.currentIndex()));
    const os = (await rawCall(d.url, 'GET', '/v1/nodes?os=true')).json();
    assert.deepEqual(os[0].Attributes, { 'os.name': 'linux' });
    assert.deepEqual(
      (await rawCall(d.url, 'GET', `/v1/nodes?prefix=${N(2).slice(0, 8)}`)).json().map((n: { Name: string }) => n.Name),
      ['n2'],
    );
    const bad = await rawCall(d.url, 'GET', '/v1/nodes?os=maybe');
    assert.deepEqual(
      [bad.status, bad.text],
      [400, 'Failed to parse node list fields: Failed to parse value of "os" (maybe) as a bool: strconv.ParseBool: parsing "maybe": invalid syntax'],
    );
    assert.deepEqual([(await rawCall(d.url, 'POST', '/v1/nodes')).status], [405]);
  });

  it('reads one node, without its SecretID, and answers 404 "node not found" for an unknown ID', async () => {
    d = await NomadDouble.start({ nodes: THREE });
    const r = await rawCall(d.url, 'GET', `/v1/node/${N(2)}`);
    assert.equal(r.status, 200);
    const n = r.json();
    assert.deepEqual([n.ID, n.Name, n.HTTPAddr, n.SecretID, n.Datacenter], [N(2), 'n2', '10.0.0.2:4646', '', 'dc2']);
    assert.equal(n.Attributes['unique.network.ip-address'], '10.0.0.2');
    assert.equal(r.headers.get('x-nomad-index'), String(n.ModifyIndex));
    const missing = await rawCall(d.url, 'GET', '/v1/node/nope');
    assert.deepEqual([missing.status, missing.text], [404, 'node not found']);
    assert.deepEqual([(await rawCall(d.url, 'GET', '/v1/node/')).status, (await rawCall(d.url, 'GET', '/v1/node/')).text], [500, 'missing node ID']);
    assert.equal((await rawCall(d.url, 'PUT', `/v1/node/${N(2)}`)).status, 405);
  });

  it('needs node:read', async () => {
    d = await NomadDouble.start({
      acl: true,
      tokens: [
        { secretId: 'ops', node: 'read' },
        { secretId: 'jobs', rules: [{ namespace: '*', policy: 'write' }] },
      ],
    });
    assert.equal((await rawCall(d.url, 'GET', '/v1/nodes', { token: 'ops' })).status, 200);
    assert.equal((await rawCall(d.url, 'GET', `/v1/node/${DEFAULT_NODE.ID}`, { token: 'ops' })).status, 200);
    for (const path of ['/v1/nodes', `/v1/node/${DEFAULT_NODE.ID}`]) {
      for (const token of ['jobs', undefined, 'unknown']) {
        const r = await rawCall(d.url, 'GET', path, { token });
        assert.deepEqual([r.status, r.text], [403, 'Permission denied'], `${path} ${token}`);
      }
    }
  });

  it('wakes a blocking node list when a node changes', async () => {
    d = await NomadDouble.start({ nodes: THREE });
    const index = d.currentIndex();
    const waiting = rawCall(d.url, 'GET', `/v1/nodes?index=${index}&wait=5s`);
    setTimeout(() => d!.setNodeStatus(N(3), 'down'), 50);
    const nodes = (await waiting).json();
    assert.equal(nodes.find((n: { ID: string }) => n.ID === N(3)).Status, 'down');
  });

  describe('placement', () => {
    it('places allocations on ready nodes in turn, so a test knows which node each one is on', async () => {
      d = await NomadDouble.start({ nodes: THREE, pendingDelayMs: 5 });
      d.addJob({ ID: 'web', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'app', Count: 4 }] });
      await sleep(40);
      const allocs = d.allocations('web').sort((a, b) => a.slot - b.slot);
      assert.deepEqual(
        allocs.map((a) => [a.Name, a.NodeName]),
        [
          ['web.app[0]', 'n1'],
          ['web.app[1]', 'n2'],
          ['web.app[2]', 'n3'],
          ['web.app[3]', 'n1'],
        ],
      );
      const api = (await rawCall(d.url, 'GET', '/v1/job/web/allocations')).json();
      assert.deepEqual(new Set(api.map((a: { NodeID: string }) => a.NodeID)), new Set([N(1), N(2), N(3)]));
    });

    it('skips nodes that are down or ineligible', async () => {
      d = await NomadDouble.start({ nodes: THREE, pendingDelayMs: 5 });
      d.setNodeStatus(N(1), 'down');
      d.setNodeEligibility(N(3), false);
      d.addJob({ ID: 'web', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'app', Count: 3 }] });
      await sleep(40);
      assert.deepEqual(
        d.allocations('web').map((a) => a.NodeID),
        [N(2), N(2), N(2)],
      );
    });

    it('leaves allocations unplaced while no node is ready, and places them when one becomes ready', async () => {
      d = await NomadDouble.start({ nodes: [{ ID: N(1), Name: 'n1', Status: 'initializing' }], pendingDelayMs: 5 });
      d.addJob({ ID: 'web', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'app', Count: 1 }] });
      await sleep(30);
      assert.deepEqual(d.allocations('web'), []);
      assert.equal(d.job('web')!.Status, 'pending');
      d.addNode({ ID: N(2), Name: 'n2' });
      await sleep(40);
      const [a] = d.allocations('web');
      assert.deepEqual([a.NodeName, a.ClientStatus], ['n2', 'running']);
    });
  });
});
