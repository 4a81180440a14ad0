// The Nomad client's Variables calls against the double (which answers as
// command/agent/variable_endpoint.go does): a read of a missing variable is null, a lost
// check-and-set is a conflict carrying the variable that won, a held lock is a conflict, and the
// lock's ID renews and releases it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InternalError, NomadError } from '../../../src/errors';
import { conflictingVariable, NomadClient, resolveNomadSettings } from '../../../src/pipeline/processors/nomad_autostart/client';
import { NomadDouble } from '../../helpers/nomad';

const WRITER = 'c0ffee00-VARS-WRITER-0000-000000000001';
const READER = 'c0ffee00-VARS-READER-0000-000000000002';

async function failure(fn: () => Promise<unknown>): Promise<NomadError> {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof NomadError, `expected a NomadError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected the call to fail');
}

describe('the Nomad client reads and writes Variables as the cluster sleep needs', () => {
  let d: NomadDouble;
  let client: NomadClient;
  let reader: NomadClient;
  before(async () => {
    d = await NomadDouble.start({
      acl: true,
      namespaces: ['ops'],
      tokens: [
        { secretId: WRITER, rules: [{ namespace: 'ops', variables: [{ path: 'nomad/jobs/netwatch/*', capabilities: ['read', 'write'] }] }] },
        { secretId: READER, rules: [{ namespace: 'ops', variables: [{ path: 'nomad/jobs/netwatch/*', capabilities: ['read'] }] }] },
      ],
    });
    client = new NomadClient(resolveNomadSettings({ namespace: 'ops' }, { NOMAD_ADDR: d.url, NOMAD_TOKEN: WRITER }));
    reader = new NomadClient(resolveNomadSettings({ namespace: 'ops' }, { NOMAD_ADDR: d.url, NOMAD_TOKEN: READER }));
  });
  after(async () => {
    await client.close();
    await reader.close();
    await d.stop();
  });

  it('reads a missing variable as null, and writes one that must not exist yet with cas=0', async () => {
    const path = 'nomad/jobs/netwatch/activity/node-a';
    assert.equal((await client.readVariable(path)).value, null);
    const v = await client.putVariable(path, { 'default/web/web': 'active' }, 0);
    assert.deepEqual([v.Path, v.Namespace, v.Items], [path, 'ops', { 'default/web/web': 'active' }]);
    assert.ok(v.ModifyIndex > 0 && v.ModifyTime > 0);
    const r = await reader.readVariable(path);
    assert.deepEqual([r.value?.Items, r.value?.ModifyIndex, r.index], [{ 'default/web/web': 'active' }, v.ModifyIndex, v.ModifyIndex]);
    const put = d.requests().find((q) => q.method === 'PUT')!;
    assert.deepEqual([put.path, put.query.cas, put.query.namespace], [`/v1/var/${path}`, '0', 'ops']);
  });

  it('a lost check-and-set is a conflict whose body is the variable that won', async () => {
    const path = 'nomad/jobs/netwatch/activity/node-b';
    const first = await client.putVariable(path, { k: 'one' }, 0);
    await client.putVariable(path, { k: 'two' }, first.ModifyIndex);
    const e = await failure(() => client.putVariable(path, { k: 'three' }, first.ModifyIndex));
    assert.deepEqual([e.status, e.kind], [409, 'conflict']);
    const now = conflictingVariable(e);
    assert.deepEqual(now?.Items, { k: 'two' });
    assert.ok(now.ModifyIndex > first.ModifyIndex);
    const again = await client.putVariable(path, { k: 'three' }, now.ModifyIndex);
    assert.deepEqual(again.Items, { k: 'three' });
  });

  it('lists the variables below a prefix, without their items', async () => {
    const listed = await reader.listVariables('nomad/jobs/netwatch/activity/');
    assert.deepEqual(
      listed.value.map((v) => v.Path),
      ['nomad/jobs/netwatch/activity/node-a', 'nomad/jobs/netwatch/activity/node-b'],
    );
    assert.equal((listed.value[0] as unknown as { Items?: unknown }).Items, undefined);
    assert.deepEqual((await client.listVariables('nomad/jobs/netwatch/none/')).value, []);
  });

  it('takes a lock that then refuses anyone else, renews and releases it with its ID', async () => {
    const path = 'nomad/jobs/netwatch/sleep/default/web/web';
    const v = await client.acquireLock(path, { holder: 'node-a' }, { ttlMs: 15_000, lockDelayMs: 15_000 });
    assert.match(v.Lock?.ID ?? '', /^[0-9a-f-]{36}$/);
    assert.deepEqual([v.Lock?.TTL, v.Lock?.LockDelay, v.Items], ['15s', '15s', { holder: 'node-a' }]);
    const sent = d.requests().at(-1)!;
    assert.match(sent.search, /^\?lock-acquire&/, 'a bare parameter, as Nomad\u2019s client sends it');
    const held = await failure(() => client.acquireLock(path, { holder: 'node-b' }, { ttlMs: 15_000, lockDelayMs: 15_000 }));
    assert.deepEqual([held.status, held.kind], [409, 'conflict']);
    assert.equal(conflictingVariable(held)?.Items.holder, undefined, 'a lock in the way shows nothing of the variable');
    const renewed = await client.renewLock(path, v.Lock!.ID!);
    assert.equal(renewed.Path, path);
    const wrong = await failure(() => client.renewLock(path, '00000000-0000-0000-0000-000000000000'));
    assert.deepEqual([wrong.status, wrong.kind, wrong.body], [409, 'conflict', 'attempting to modify locked variable']);
    await client.releaseLock(path, v.Lock!.ID!);
    assert.equal(d.variable(path, 'ops')!.Lock, null);
    const again = await client.acquireLock(path, { holder: 'node-b' }, { ttlMs: 15_000, lockDelayMs: 15_000 });
    assert.notEqual(again.Lock?.ID, v.Lock?.ID);
    await client.releaseLock(path, again.Lock!.ID!);
  });

  it('a token without write is refused (forbidden) its writes and locks', async () => {
    const e = await failure(() => reader.putVariable('nomad/jobs/netwatch/activity/node-c', { k: 'v' }, 0));
    assert.deepEqual([e.status, e.kind], [403, 'forbidden']);
    const l = await failure(() => reader.acquireLock('nomad/jobs/netwatch/sleep/x', {}, { ttlMs: 15_000, lockDelayMs: 15_000 }));
    assert.deepEqual([l.status, l.kind], [403, 'forbidden']);
  });

  it('refuses, before sending, a path Nomad would not take', async () => {
    await assert.rejects(() => client.readVariable('nomad/jobs/web.1'), InternalError);
    await assert.rejects(() => client.putVariable(`a/${'x'.repeat(130)}`, { k: 'v' }, 0), InternalError);
  });
});
