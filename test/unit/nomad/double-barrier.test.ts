// Requests held at a barrier and let go in a chosen order (NomadDouble.barrier), so several
// agents' check-and-set writes reach the double's state store in an order the test decides.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { NomadDouble, rawCall, tokenHash, type RecordedRequest } from '../../helpers/nomad';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the double holds requests at a barrier', () => {
  let d: NomadDouble | undefined;
  afterEach(async () => {
    await d?.stop();
    d = undefined;
  });
  const casPut = (who: string, cas: number) => rawCall(d!.url, 'PUT', `/v1/var/sleep/leader?cas=${cas}`, { body: { Items: { who } } });

  it('holds matching requests until all have arrived, then lets them go in the chosen order', async () => {
    d = await NomadDouble.start();
    const v = (await rawCall(d.url, 'PUT', '/v1/var/sleep/leader', { body: { Items: { who: 'none' } } })).json();
    for (const order of [
      [0, 1],
      [1, 0],
    ]) {
      const current: number = d.variable('sleep/leader')!.ModifyIndex;
      const released: Promise<RecordedRequest[]> = d.barrier({ method: 'PUT', path: /^\/v1\/var\// }, 2, { order });
      const a = casPut('a', current);
      await sleep(30);
      assert.equal(d.variable('sleep/leader')!.ModifyIndex, current, 'the first write is held');
      const b = casPut('b', current);
      const [ra, rb] = await Promise.all([a, b]);
      const first = order[0] === 0 ? 'a' : 'b';
      assert.deepEqual([ra.status, rb.status], first === 'a' ? [200, 409] : [409, 200]);
      assert.equal(d.variable('sleep/leader')!.Items!.who, first);
      const held: RecordedRequest[] = await released;
      assert.deepEqual(
        held.map((r) => (r.body as { Items: { who: string } }).Items.who),
        ['a', 'b'],
        'the held requests, in arrival order',
      );
    }
    assert.ok(v.ModifyIndex > 0);
  });

  it('orders by a function of the recorded requests, e.g. by token, whatever the arrival order', async () => {
    d = await NomadDouble.start();
    await rawCall(d.url, 'PUT', '/v1/var/sleep/leader', { body: { Items: { who: 'none' } } });
    const cas = d.variable('sleep/leader')!.ModifyIndex;
    const agentC = tokenHash('agent-c');
    const released = d.barrier({ method: 'PUT' }, 3, {
      order: (arrived) => {
        const c = arrived.findIndex((r) => r.headers['x-nomad-token'] === agentC);
        return [c, ...arrived.map((_, i) => i).filter((i) => i !== c)];
      },
    });
    const put = (token: string) => rawCall(d!.url, 'PUT', `/v1/var/sleep/leader?cas=${cas}`, { token, body: { Items: { who: token } } });
    const results = await Promise.all(['agent-a', 'agent-b', 'agent-c'].map((t) => put(t)));
    assert.deepEqual(
      results.map((r) => r.status),
      [409, 409, 200],
    );
    assert.equal(d.variable('sleep/leader')!.Items!.who, 'agent-c');
    await released;
  });

  it('lets requests that do not match pass while others are held', async () => {
    d = await NomadDouble.start();
    const released = d.barrier({ method: 'PUT', where: (r) => r.query.cas !== undefined }, 2);
    const held = rawCall(d.url, 'PUT', '/v1/var/x?cas=0', { body: { Items: { k: 'v' } } });
    await sleep(20);
    assert.equal((await rawCall(d.url, 'PUT', '/v1/var/y', { body: { Items: { k: 'v' } } })).status, 200, 'no cas: not held');
    assert.equal((await rawCall(d.url, 'GET', '/v1/var/y')).status, 200);
    assert.equal(d.variable('x'), undefined);
    const second = rawCall(d.url, 'PUT', '/v1/var/x?cas=0', { body: { Items: { k: 'w' } } });
    assert.deepEqual(
      (await Promise.all([held, second])).map((r) => r.status),
      [200, 409],
    );
    await released;
  });

  it('lets the held requests go in arrival order and rejects when too few arrive in time', async () => {
    d = await NomadDouble.start();
    const released = d.barrier({ method: 'PUT' }, 3, { timeoutMs: 100 });
    const r = rawCall(d.url, 'PUT', '/v1/var/x', { body: { Items: { k: 'v' } } });
    await assert.rejects(released, /barrier: 1 of 3 requests arrived within 100 ms/);
    assert.equal((await r).status, 200);
  });

  it('refuses an order that is not a permutation, after letting the requests go', async () => {
    d = await NomadDouble.start();
    const refused = assert.rejects(d.barrier({ method: 'PUT' }, 2, { order: [0, 0] }), /not a permutation/);
    const rs = await Promise.all([
      rawCall(d.url, 'PUT', '/v1/var/x', { body: { Items: { k: '1' } } }),
      rawCall(d.url, 'PUT', '/v1/var/y', { body: { Items: { k: '2' } } }),
    ]);
    assert.deepEqual(
      rs.map((r) => r.status),
      [200, 200],
    );
    await refused;
  });
});
