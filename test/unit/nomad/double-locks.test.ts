// Variable locks in the double, over plain HTTP: command/agent/variable_endpoint.go (lock-acquire,
// lock-renew, lock-release), nomad/variables_endpoint.go, nomad/state/state_store_variables.go
// VarLockAcquire / VarLockRelease, nomad/locks.go (the 2 × TTL timer, then LockDelay).
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { NomadDouble, rawCall } from '../../helpers/nomad';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ZERO_CONFLICT = (path: string) => ({ Namespace: 'default', Path: path, CreateIndex: 0, CreateTime: 0, ModifyIndex: 0, ModifyTime: 0 });

describe('the double keeps Nomad variable locks', () => {
  let d: NomadDouble | undefined;
  afterEach(async () => {
    await d?.stop();
    d = undefined;
  });
  const op = (path: string, q: string, body: unknown, token?: string) => rawCall(d!.url, 'PUT', `/v1/var/${path}?${q}`, { body, token });
  const acquire = (path: string, lock: Record<string, unknown> = { TTL: '10s', LockDelay: '10s' }, extra: Record<string, unknown> = {}) =>
    op(path, 'lock-acquire', { Namespace: 'default', Path: path, ...extra, Lock: lock });
  const renew = (path: string, id: string) => op(path, 'lock-renew', { Namespace: 'default', Path: path, Items: null, Lock: { ID: id } });
  const release = (path: string, id: string) => op(path, 'lock-release', { Namespace: 'default', Path: path, Items: null, Lock: { ID: id } });

  describe('acquire', () => {
    it('answers the variable with its Lock: TTL and LockDelay as Go durations, a new uuid ID', async () => {
      d = await NomadDouble.start();
      const r = await acquire('locks/leader', { TTL: '1m', LockDelay: '10s' }, { Items: { holder: 'node-1' } });
      assert.equal(r.status, 200);
      const v = r.json();
      assert.deepEqual(Object.keys(v), ['Namespace', 'Path', 'Lock', 'CreateIndex', 'CreateTime', 'ModifyIndex', 'ModifyTime', 'Items']);
      assert.deepEqual(Object.keys(v.Lock), ['TTL', 'LockDelay', 'ID']);
      assert.deepEqual([v.Lock.TTL, v.Lock.LockDelay], ['1m0s', '10s']);
      assert.match(v.Lock.ID, UUID);
      assert.deepEqual(v.Items, { holder: 'node-1' });
      assert.equal(r.headers.get('x-nomad-index'), String(v.ModifyIndex));
      assert.equal(d.variable('locks/leader')!.Lock!.TTL, 60e9);
    });

    it("fills in Nomad's defaults (15s, 15s) when no Lock is given, and takes nanoseconds as numbers", async () => {
      d = await NomadDouble.start();
      const v = (await op('l/a', 'lock-acquire', { Items: {} })).json();
      assert.deepEqual([v.Lock.TTL, v.Lock.LockDelay], ['15s', '15s']);
      assert.equal(v.Items, undefined, 'empty Items are omitted');
      const n = (await acquire('l/b', { TTL: 90e9, LockDelay: 1.5e9 })).json();
      assert.deepEqual([n.Lock.TTL, n.Lock.LockDelay], ['1m30s', '1.5s']);
    });

    it('refuses a TTL outside 10 s .. 24 h and a negative delay with go-multierror texts', async () => {
      d = await NomadDouble.start();
      const short = await acquire('l', { TTL: '200ms' });
      assert.deepEqual([short.status, short.text], [400, 'RPC Error:: 400,1 error occurred:\n\t* TTL must be between 10 seconds and 24 hours\n\n']);
      const negative = await acquire('l', { TTL: '-1s' });
      assert.deepEqual(
        [negative.status, negative.text],
        [400, 'RPC Error:: 400,2 errors occurred:\n\t* Lock delay and TTL must be positive\n\t* TTL must be between 10 seconds and 24 hours\n\n'],
      );
      assert.equal((await acquire('l', { TTL: '25h' })).status, 400);
      const bad = await acquire('l', { TTL: 'soon' });
      assert.deepEqual([bad.status, bad.text], [400, 'time: invalid duration "soon"']);
      assert.equal(d.variable('l'), undefined);
    });

    it('answers 409 with a zero-valued variable (no index header) while another holds the lock', async () => {
      d = await NomadDouble.start();
      await acquire('l', undefined, { Items: { secret: 'kept' } });
      const r = await acquire('l');
      assert.equal(r.status, 409);
      assert.deepEqual(r.json(), ZERO_CONFLICT('l'));
      assert.equal(r.headers.get('x-nomad-index'), null);
    });

    it('overwrites the Items of an unlocked variable it locks', async () => {
      d = await NomadDouble.start();
      const before = (await rawCall(d.url, 'PUT', '/v1/var/l', { body: { Items: { a: '1' } } })).json();
      const v = (await acquire('l')).json();
      assert.equal(v.CreateIndex, before.CreateIndex);
      assert.equal(d.variable('l')!.Items, null);
    });

    it('refuses cas with a lock operation, and two lock operations at once', async () => {
      d = await NomadDouble.start();
      const cas = await op('l', 'lock-acquire&cas=0', {});
      assert.deepEqual([cas.status, cas.text], [400, "CAS can't be used with lock operations"]);
      const two = await op('l', 'lock-acquire&lock-release', {});
      assert.deepEqual([two.status, two.text], [400, 'multiple lock operations']);
    });
  });

  describe('a held lock guards its variable', () => {
    it('refuses a write or delete without its ID with a zero-valued 409; the holder may write with it', async () => {
      d = await NomadDouble.start();
      const id = (await acquire('l', undefined, { Items: { a: '1' } })).json().Lock.ID;
      const w = await rawCall(d.url, 'PUT', '/v1/var/l', { body: { Items: { a: '2' } } });
      assert.equal(w.status, 409);
      assert.deepEqual(w.json(), ZERO_CONFLICT('l'));
      const del = await rawCall(d.url, 'DELETE', '/v1/var/l');
      assert.equal(del.status, 409);
      assert.deepEqual(del.json(), ZERO_CONFLICT('l'));
      const mine = await rawCall(d.url, 'PUT', '/v1/var/l', { body: { Items: { a: '3' }, Lock: { ID: id } } });
      assert.equal(mine.status, 200);
      assert.equal(mine.json().Lock.ID, id);
      assert.equal(d.variable('l')!.Items!.a, '3');
    });

    it('shows the Lock on reads to management only', async () => {
      d = await NomadDouble.start({
        acl: true,
        tokens: [
          { secretId: 'mgmt', management: true },
          { secretId: 'rw', rules: [{ namespace: 'default', variables: [{ path: 'l', capabilities: ['read', 'write'] }] }] },
        ],
      });
      await op('l', 'lock-acquire', { Lock: { TTL: '10s' } }, 'rw');
      assert.ok((await rawCall(d.url, 'GET', '/v1/var/l', { token: 'mgmt' })).json().Lock);
      assert.equal((await rawCall(d.url, 'GET', '/v1/var/l', { token: 'rw' })).json().Lock, undefined);
      assert.equal((await rawCall(d.url, 'GET', '/v1/vars', { token: 'rw' })).json()[0].Lock, undefined);
      assert.ok((await rawCall(d.url, 'GET', '/v1/vars', { token: 'mgmt' })).json()[0].Lock);
    });

    it('needs write to acquire, renew and release', async () => {
      d = await NomadDouble.start({
        acl: true,
        tokens: [
          { secretId: 'mgmt', management: true },
          { secretId: 'reader', rules: [{ namespace: 'default', variables: [{ path: '*', capabilities: ['read', 'destroy'] }] }] },
        ],
      });
      const id = (await op('l', 'lock-acquire', { Lock: { TTL: '10s' } }, 'mgmt')).json().Lock.ID;
      for (const q of ['lock-acquire', 'lock-renew', 'lock-release']) {
        const r = await op('l', q, { Lock: { ID: id } }, 'reader');
        assert.deepEqual([r.status, r.text], [403, 'Permission denied'], q);
      }
    });
  });

  describe('renew', () => {
    it("answers the variable's metadata with its Lock, and no index header", async () => {
      d = await NomadDouble.start();
      const v = (await acquire('l', undefined, { Items: { a: '1' } })).json();
      const r = await renew('l', v.Lock.ID);
      assert.equal(r.status, 200);
      const { Items: _items, ...meta } = v;
      assert.deepEqual(r.json(), meta);
      assert.equal(r.headers.get('x-nomad-index'), null);
    });

    it('answers the errors of Variables.RenewLock', async () => {
      d = await NomadDouble.start();
      const id = (await acquire('l')).json().Lock.ID;
      await rawCall(d.url, 'PUT', '/v1/var/plain', { body: { Items: { a: '1' } } });
      const cases: Array<[string, string, number, string]> = [
        ['l', 'not-the-id', 409, 'attempting to modify locked variable'],
        ['plain', id, 409, "variable doesn't hold a lock"],
        ['missing', id, 404, "variable doesn't exist"],
        ['l', '', 500, '1 error occurred:\n\t* missing lock ID\n\n'],
      ];
      for (const [path, lockId, status, text] of cases) {
        const r = await renew(path, lockId);
        assert.deepEqual([r.status, r.text], [status, text], `${path} ${lockId}`);
      }
    });
  });

  describe('release', () => {
    it('frees the lock at once (no delay) and keeps the Items, answering without them', async () => {
      d = await NomadDouble.start();
      const v = (await acquire('l', undefined, { Items: { a: '1' } })).json();
      const r = await release('l', v.Lock.ID);
      assert.equal(r.status, 200);
      assert.deepEqual(Object.keys(r.json()), ['Namespace', 'Path', 'CreateIndex', 'CreateTime', 'ModifyIndex', 'ModifyTime']);
      assert.equal(r.headers.get('x-nomad-index'), String(r.json().ModifyIndex));
      assert.deepEqual(d.variable('l')!.Items, { a: '1' });
      assert.equal((await acquire('l')).status, 200, 'another caller gets it right away');
    });

    it('answers the errors of Variables.Apply and VarLockRelease', async () => {
      d = await NomadDouble.start();
      const id = (await acquire('l')).json().Lock.ID;
      await rawCall(d.url, 'PUT', '/v1/var/plain', { body: { Items: { a: '1' } } });
      const wrong = await release('l', 'not-the-id');
      assert.equal(wrong.status, 409);
      assert.deepEqual(wrong.json(), ZERO_CONFLICT('l'));
      const cases: Array<[Promise<{ status: number; text: string; headers: Headers }>, number, string]> = [
        [op('l', 'lock-release', { Lock: {} }), 400, 'RPC Error:: 400,missing lock information'],
        [op('l', 'lock-release', { Items: {}, Lock: { ID: id } }), 400, "RPC Error:: 400,lock release operation doesn't take variable items"],
        [release('plain', id), 500, "variable doesn't hold a lock"],
        [release('missing', id), 500, "variable doesn't exist"],
      ];
      for (const [call, status, text] of cases) {
        const r = await call;
        assert.deepEqual([r.status, r.text], [status, text]);
        assert.equal(r.headers.get('x-nomad-index'), '0', "the empty reply's setIndex");
      }
      assert.equal(d.variable('l')!.Lock!.ID, id);
    });
  });

  describe('TTL and lock delay (lock clock 50 × faster: TTL 10s → the 2 × TTL timer fires after 400 ms; LockDelay 10s → 200 ms)', () => {
    const SCALE = { server: { lockTimeScale: 50 } };

    it('keeps an unrenewed lock through 2 × TTL, then through LockDelay, then frees it keeping the Items', async () => {
      d = await NomadDouble.start(SCALE);
      const started = Date.now();
      const v = (await acquire('l', { TTL: '10s', LockDelay: '10s' }, { Items: { a: '1' } })).json();
      const freed = rawCall(d.url, 'GET', `/v1/var/l?index=${v.ModifyIndex}&wait=5s`);
      await sleep(300);
      assert.equal((await acquire('l')).status, 409, 'within 2 × TTL');
      await sleep(500 - (Date.now() - started));
      assert.equal((await acquire('l')).status, 409, 'TTL passed, lock delay running');
      const late = await renew('l', v.Lock.ID);
      assert.deepEqual([late.status, late.text], [409, 'attempting to modify locked variable'], 'too late to renew');
      const r = await freed;
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 580 && elapsed < 1500, `freed after ${elapsed} ms`);
      assert.equal(d.variable('l')!.Lock, null);
      assert.deepEqual(d.variable('l')!.Items, { a: '1' });
      assert.ok(Number(r.headers.get('x-nomad-index')) > v.ModifyIndex);
      assert.equal((await acquire('l')).status, 200);
    });

    it('renewing before 2 × TTL keeps the lock', async () => {
      d = await NomadDouble.start(SCALE);
      const id = (await acquire('l')).json().Lock.ID;
      for (let i = 0; i < 4; i++) {
        await sleep(250);
        assert.equal((await renew('l', id)).status, 200, `renew ${i}`);
      }
      assert.equal((await acquire('l')).status, 409);
      assert.equal(d.variable('l')!.Lock!.ID, id);
    });

    it("expiry's release names no lock: a lock taken during the delay is removed with it (nomad/locks.go invalidateVariableLock)", async () => {
      d = await NomadDouble.start(SCALE);
      const first = (await acquire('l')).json().Lock.ID;
      await sleep(450); // TTL timer fired; the delay runs until ~600 ms
      assert.equal((await release('l', first)).status, 200, 'the holder may still release during the delay');
      const second = (await acquire('l')).json().Lock.ID;
      assert.notEqual(second, first);
      await sleep(300);
      assert.equal(d.variable('l')!.Lock, null);
      const r = await renew('l', second);
      assert.deepEqual([r.status, r.text], [409, "variable doesn't hold a lock"]);
    });

    it('a leader that steps down stops the TTL timers; the next one restarts them for each held lock', async () => {
      d = await NomadDouble.start(SCALE);
      const id = (await acquire('l')).json().Lock.ID;
      await sleep(300);
      d.setLeader(false);
      d.setLeader(true); // a fresh 2 × TTL from here
      await sleep(300);
      assert.equal((await renew('l', id)).status, 200);
    });
  });
});
