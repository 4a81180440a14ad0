// Nomad Variables in the double, over plain HTTP: command/agent/variable_endpoint.go,
// nomad/variables_endpoint.go, nomad/state/state_store_variables.go, acl/acl.go AllowVariableOperation.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { NomadDouble, rawCall } from '../../helpers/nomad';

const META_FIELDS = ['Namespace', 'Path', 'CreateIndex', 'CreateTime', 'ModifyIndex', 'ModifyTime'];

describe('the double stores Nomad Variables as the HTTP API does', () => {
  let d: NomadDouble | undefined;
  afterEach(async () => {
    await d?.stop();
    d = undefined;
  });
  const put = (path: string, body: unknown, q = '') => rawCall(d!.url, 'PUT', `/v1/var/${path}${q}`, { body });
  const get = (path: string, q = '') => rawCall(d!.url, 'GET', `/v1/var/${path}${q}`);
  const del = (path: string, q = '') => rawCall(d!.url, 'DELETE', `/v1/var/${path}${q}`);

  it('creates a variable and answers it with its indexes, the Raft index in X-Nomad-Index', async () => {
    d = await NomadDouble.start();
    const before = d.currentIndex();
    const r = await put('app/config', { Items: { port: '8080' } });
    assert.equal(r.status, 200);
    const v = r.json();
    assert.deepEqual(Object.keys(v), [...META_FIELDS, 'Items']);
    assert.deepEqual([v.Namespace, v.Path, v.Items], ['default', 'app/config', { port: '8080' }]);
    assert.equal(v.CreateIndex, before + 1);
    assert.equal(v.ModifyIndex, v.CreateIndex);
    assert.equal(r.headers.get('x-nomad-index'), String(v.ModifyIndex));
    assert.ok(Math.abs(v.CreateTime / 1e6 - Date.now()) < 5000, 'CreateTime is Unix nanoseconds');
  });

  it('reads it back with Items, X-Nomad-Index its ModifyIndex, and 404 "variable not found" for a missing one', async () => {
    d = await NomadDouble.start();
    const w = (await put('app/config', { Items: { a: '1' } })).json();
    const r = await get('app/config');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json(), w);
    assert.equal(r.headers.get('x-nomad-index'), String(w.ModifyIndex));
    assert.equal(r.headers.get('x-nomad-knownleader'), 'true');
    const missing = await get('app/nothing');
    assert.deepEqual([missing.status, missing.text], [404, 'variable not found']);
    assert.equal(missing.headers.get('x-nomad-index'), String(w.ModifyIndex), "the variables table's index");
  });

  it('keeps CreateIndex and moves ModifyIndex on an update; the URL path wins over the body', async () => {
    d = await NomadDouble.start();
    const first = (await put('app/config', { Items: { a: '1' } })).json();
    const second = (await put('app/config', { Path: 'elsewhere', Items: { a: '2' } })).json();
    assert.equal(second.Path, 'app/config');
    assert.equal(second.CreateIndex, first.CreateIndex);
    assert.ok(second.ModifyIndex > first.ModifyIndex);
    assert.equal(d.variable('elsewhere'), undefined);
  });

  it('answers the request errors of variable_endpoint.go', async () => {
    d = await NomadDouble.start();
    const cases: Array<[Promise<{ status: number; text: string }>, number, string]> = [
      [rawCall(d.url, 'GET', '/v1/var/'), 400, 'missing variable path'],
      [rawCall(d.url, 'PATCH', '/v1/var/a', { body: {} }), 400, 'Invalid method'],
      [rawCall(d.url, 'PUT', '/v1/vars'), 405, 'Invalid method'],
      [rawCall(d.url, 'PUT', '/v1/var/a'), 400, 'Request body is empty'],
      [put('a', { Items: {} }), 400, 'variable missing required Items object'],
      [put('a', { Namespace: 'default' }), 400, 'variable missing required Items object'],
      [put('a', { Items: { k: 1 } }), 400, 'json: cannot unmarshal number into Go struct field VariableDecrypted.Items of type string'],
      [put('a', { Items: { k: 'v' } }, '?cas=abc'), 400, 'can not parse cas: strconv.ParseUint: parsing "abc": invalid syntax'],
      [put('a', { Items: { k: 'v' } }, '?cas=-1'), 400, 'can not parse cas: strconv.ParseUint: parsing "-1": invalid syntax'],
      [del('a', '?cas=x'), 400, 'can not parse cas: strconv.ParseUint: parsing "x": invalid syntax'],
    ];
    for (const [call, status, text] of cases) {
      const r = await call;
      assert.deepEqual([r.status, r.text], [status, text]);
    }
  });

  it("answers validation errors with Apply's extra RPC-coded wrapping left in the text", async () => {
    d = await NomadDouble.start();
    const cases: Array<[string, unknown, string]> = [
      ['a%20b', { Items: { k: 'v' } }, 'RPC Error:: 400,invalid path "a b"'],
      [
        'nomad',
        { Items: { k: 'v' } },
        'RPC Error:: 400,"nomad" is a reserved top-level directory path, but you may write variables to "nomad/jobs", "nomad/job-templates", "nomad/sentinel", or below',
      ],
      [
        'nomad/other',
        { Items: { k: 'v' } },
        'RPC Error:: 400,only paths at "nomad/jobs" or "nomad/job-templates" and below are valid paths under the top-level "nomad" directory',
      ],
      ['a', { Items: { k: 'x'.repeat(65536) } }, 'RPC Error:: 400,variables are limited to 64KiB in total size'],
      ['a', { Items: { k: 'v' }, Lock: { TTL: '15s' } }, 'RPC Error:: 400,RPC Error:: 400,variable should not contain lock definition'],
      ['a', { Namespace: '*', Items: { k: 'v' } }, 'RPC Error:: 400,can not target wildcard ("*")namespace'],
    ];
    for (const [path, body, text] of cases) {
      const r = await put(path, body);
      assert.deepEqual([r.status, r.text], [400, text], path);
    }
    assert.equal((await put('nomad/jobs/web', { Items: { k: 'v' } })).status, 200);
    assert.equal((await put('x'.repeat(128), { Items: { k: 'v' } })).status, 200);
    assert.equal((await put('x'.repeat(129), { Items: { k: 'v' } })).status, 400);
  });

  describe('check-and-set', () => {
    it('cas=0 creates only when the variable does not exist, else 409 with the current variable', async () => {
      d = await NomadDouble.start();
      const created = await put('app/lock', { Items: { owner: 'a' } }, '?cas=0');
      assert.equal(created.status, 200);
      const stored = created.json();
      const r = await put('app/lock', { Items: { owner: 'b' } }, '?cas=0');
      assert.equal(r.status, 409);
      assert.deepEqual(r.json(), stored, 'the conflict is the stored variable, Items included');
      assert.equal(r.headers.get('x-nomad-index'), String(stored.ModifyIndex));
      assert.equal(d.variable('app/lock')!.Items!.owner, 'a');
    });

    it('cas=<ModifyIndex> writes only when it matches the stored one', async () => {
      d = await NomadDouble.start();
      const v1 = (await put('app/c', { Items: { n: '1' } })).json();
      const v2 = (await put('app/c', { Items: { n: '2' } }, `?cas=${v1.ModifyIndex}`)).json();
      assert.equal(v2.Items.n, '2');
      const stale = await put('app/c', { Items: { n: '3' } }, `?cas=${v1.ModifyIndex}`);
      assert.equal(stale.status, 409);
      assert.deepEqual(stale.json(), v2);
      assert.equal(d.variable('app/c')!.Items!.n, '2');
    });

    it('a cas index on a missing variable conflicts with a zero value', async () => {
      d = await NomadDouble.start();
      const r = await put('app/none', { Items: { k: 'v' } }, '?cas=7');
      assert.equal(r.status, 409);
      assert.deepEqual(r.json(), { Namespace: 'default', Path: 'app/none', CreateIndex: 0, CreateTime: 0, ModifyIndex: 0, ModifyTime: 0 });
      assert.equal(r.headers.get('x-nomad-index'), '0');
    });

    it('of two writers that read the same ModifyIndex, one wins and the other sees the winner', async () => {
      d = await NomadDouble.start();
      const v = (await put('app/leader', { Items: { who: 'none' } })).json();
      const [a, b] = await Promise.all([
        put('app/leader', { Items: { who: 'a' } }, `?cas=${v.ModifyIndex}`),
        put('app/leader', { Items: { who: 'b' } }, `?cas=${v.ModifyIndex}`),
      ]);
      assert.deepEqual([a.status, b.status].sort(), [200, 409]);
      const [winner, loser] = a.status === 200 ? [a, b] : [b, a];
      assert.deepEqual(loser.json(), winner.json());
    });
  });

  describe('delete', () => {
    it('answers 204 with the Raft index, also for a variable that does not exist', async () => {
      d = await NomadDouble.start();
      await put('app/x', { Items: { k: 'v' } });
      const r = await del('app/x');
      assert.deepEqual([r.status, r.text], [204, '']);
      assert.equal(r.headers.get('x-nomad-index'), String(d.currentIndex()));
      assert.equal(d.variable('app/x'), undefined);
      assert.equal((await del('app/x')).status, 204);
    });

    it('with cas deletes only the version it names; cas=0 succeeds only when there is nothing', async () => {
      d = await NomadDouble.start();
      const v1 = (await put('app/x', { Items: { k: '1' } })).json();
      const v2 = (await put('app/x', { Items: { k: '2' } })).json();
      const stale = await del('app/x', `?cas=${v1.ModifyIndex}`);
      assert.equal(stale.status, 409);
      assert.deepEqual(stale.json(), v2);
      assert.equal((await del('app/x', '?cas=0')).status, 409);
      assert.equal((await del('app/x', `?cas=${v2.ModifyIndex}`)).status, 204);
      assert.equal((await del('app/x', '?cas=0')).status, 204);
      const gone = await del('app/x', `?cas=${v2.ModifyIndex}`);
      assert.equal(gone.status, 409);
      assert.deepEqual(gone.json(), { Namespace: 'default', Path: 'app/x', CreateIndex: 0, CreateTime: 0, ModifyIndex: 0, ModifyTime: 0 });
    });
  });

  describe('list', () => {
    it('lists metadata only (no Items), by prefix, sorted by path, indexed by the table', async () => {
      d = await NomadDouble.start();
      await put('b/two', { Items: { k: 'v' } });
      await put('a/one', { Items: { k: 'v' } });
      await put('b/one', { Items: { k: 'v' } });
      const all = await rawCall(d.url, 'GET', '/v1/vars');
      assert.equal(all.status, 200);
      assert.deepEqual(
        all.json().map((v: { Path: string }) => v.Path),
        ['a/one', 'b/one', 'b/two'],
      );
      for (const v of all.json()) assert.deepEqual(Object.keys(v), META_FIELDS);
      assert.equal(all.headers.get('x-nomad-index'), String(d.variable('b/one')!.ModifyIndex));
      const b = (await rawCall(d.url, 'GET', '/v1/vars?prefix=b/')).json();
      assert.deepEqual(
        b.map((v: { Path: string }) => v.Path),
        ['b/one', 'b/two'],
      );
    });

    it('answers [] with index 1 when there are none', async () => {
      d = await NomadDouble.start();
      const r = await rawCall(d.url, 'GET', '/v1/vars');
      assert.deepEqual([r.status, r.json(), r.headers.get('x-nomad-index')], [200, [], '1']);
    });

    it('keeps namespaces apart: ?namespace= for reads and writes, the body Namespace first, * lists all', async () => {
      d = await NomadDouble.start({ namespaces: ['prod'] });
      await put('cfg', { Items: { env: 'default' } });
      await put('cfg', { Items: { env: 'prod' } }, '?namespace=prod');
      await put('other', { Namespace: 'prod', Items: { k: 'v' } }, '?namespace=default');
      assert.equal((await get('cfg', '?namespace=prod')).json().Items.env, 'prod');
      assert.equal((await get('cfg')).json().Items.env, 'default');
      assert.equal((await get('other')).status, 404);
      assert.equal(d.variable('other', 'prod')!.Namespace, 'prod');
      const all = (await rawCall(d.url, 'GET', '/v1/vars?namespace=*')).json();
      assert.deepEqual(
        all.map((v: { Namespace: string; Path: string }) => `${v.Namespace}/${v.Path}`),
        ['default/cfg', 'prod/cfg', 'prod/other'],
      );
    });
  });

  describe('blocking queries', () => {
    it('a read with ?index= waits for the variable to change past it', async () => {
      d = await NomadDouble.start();
      const v = (await put('app/x', { Items: { k: '1' } })).json();
      const waiting = get('app/x', `?index=${v.ModifyIndex}&wait=5s`);
      await new Promise((r) => setTimeout(r, 50));
      await put('app/y', { Items: { k: 'other' } }); // another variable does not answer it
      await new Promise((r) => setTimeout(r, 50));
      const w = (await put('app/x', { Items: { k: '2' } })).json();
      const r = await waiting;
      assert.equal(r.json().Items.k, '2');
      assert.equal(r.headers.get('x-nomad-index'), String(w.ModifyIndex));
    });

    it('a list with ?index= waits for any variable write, a delete included', async () => {
      d = await NomadDouble.start();
      await put('app/x', { Items: { k: '1' } });
      const index = d.currentIndex();
      const started = Date.now();
      const waiting = rawCall(d.url, 'GET', `/v1/vars?index=${index}&wait=5s`);
      setTimeout(() => void del('app/x'), 80);
      const r = await waiting;
      assert.ok(Date.now() - started >= 70);
      assert.deepEqual(r.json(), []);
      assert.ok(Number(r.headers.get('x-nomad-index')) > index);
    });

    it('a read with ?index= and a short wait answers the unchanged variable at the deadline', async () => {
      d = await NomadDouble.start();
      const v = (await put('app/x', { Items: { k: '1' } })).json();
      const r = await get('app/x', `?index=${v.ModifyIndex}&wait=100ms`);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('x-nomad-index'), String(v.ModifyIndex));
    });
  });
});

describe('the double checks variables ACLs per path and capability', () => {
  let d: NomadDouble;
  const rule = (path: string, ...capabilities: Array<'read' | 'write' | 'list' | 'destroy' | 'deny'>) => ({ path, capabilities });
  before(async () => {
    d = await NomadDouble.start({
      acl: true,
      namespaces: ['prod'],
      tokens: [
        { secretId: 'mgmt', management: true },
        { secretId: 'reader', rules: [{ namespace: 'default', variables: [rule('app/*', 'read')] }] },
        { secretId: 'writer', rules: [{ namespace: 'default', variables: [rule('app/*', 'write')] }] },
        { secretId: 'lister', rules: [{ namespace: 'default', variables: [rule('app/*', 'list')] }] },
        { secretId: 'destroyer', rules: [{ namespace: 'default', variables: [rule('app/*', 'destroy')] }] },
        { secretId: 'job-writer', rules: [{ namespace: 'default', policy: 'write' }] },
        {
          secretId: 'closest',
          rules: [{ namespace: 'default', variables: [rule('*', 'read', 'write'), rule('app/secret/*', 'deny'), rule('app/one', 'write')] }],
        },
        { secretId: 'any-ns', rules: [{ namespace: '*', variables: [rule('shared/*', 'read')] }] },
        { secretId: 'wi', workload: { namespace: 'default', job: 'web', group: 'g', task: 't' } },
        { secretId: 'expired', management: true, expired: true },
      ],
    });
    for (const path of ['app/one', 'app/two', 'app/secret/key', 'nomad/jobs/web', 'nomad/jobs/web/g', 'nomad/jobs/other', 'shared/x']) {
      assert.equal((await rawCall(d.url, 'PUT', `/v1/var/${path}`, { token: 'mgmt', body: { Items: { k: path } } })).status, 200);
    }
    await rawCall(d.url, 'PUT', '/v1/var/shared/x?namespace=prod', { token: 'mgmt', body: { Items: { k: 'prod' } } });
  });
  after(() => d.stop());

  const read = (token: string | undefined, path: string, q = '') => rawCall(d.url, 'GET', `/v1/var/${path}${q}`, { token });
  const write = (token: string | undefined, path: string) => rawCall(d.url, 'PUT', `/v1/var/${path}`, { token, body: { Items: { by: token ?? 'anonymous' } } });
  const list = async (token: string | undefined, q = '') => {
    const r = await rawCall(d.url, 'GET', `/v1/vars${q}`, { token });
    return r.status === 200 ? r.json().map((v: { Namespace: string; Path: string }) => `${v.Namespace}/${v.Path}`) : r.status;
  };
  const denied = (r: { status: number; text: string }) => assert.deepEqual([r.status, r.text], [403, 'Permission denied']);

  it('refuses an anonymous, unknown or expired token with 403 "Permission denied"', async () => {
    denied(await read(undefined, 'app/one'));
    denied(await read('nope', 'app/one'));
    denied(await read('expired', 'app/one'));
    denied(await write(undefined, 'app/one'));
    assert.equal(await list('nope'), 403);
    assert.deepEqual(await list(undefined), [], 'an anonymous list is filtered to nothing');
  });

  it('read reads (and lists) but does not write or destroy', async () => {
    assert.equal((await read('reader', 'app/one')).status, 200);
    denied(await read('reader', 'shared/x'));
    denied(await write('reader', 'app/one'));
    denied(await rawCall(d.url, 'DELETE', '/v1/var/app/two', { token: 'reader' }));
    assert.deepEqual(await list('reader'), ['default/app/one', 'default/app/secret/key', 'default/app/two']);
  });

  it('checks read before the lookup, so an unreadable missing variable is a 403 not a 404', async () => {
    denied(await read('writer', 'app/missing'));
    assert.equal((await read('reader', 'app/missing')).status, 404);
  });

  it('write writes but neither reads, lists nor deletes', async () => {
    assert.equal((await write('writer', 'app/w')).status, 200);
    denied(await read('writer', 'app/w'));
    assert.deepEqual(await list('writer'), []);
    denied(await rawCall(d.url, 'DELETE', '/v1/var/app/w', { token: 'writer' }));
    assert.equal((await rawCall(d.url, 'DELETE', '/v1/var/app/w', { token: 'destroyer' })).status, 204);
  });

  it('shows a writer that may not read only the metadata of the variable it conflicts with', async () => {
    const r = await rawCall(d.url, 'PUT', '/v1/var/app/one?cas=0', { token: 'writer', body: { Items: { k: 'x' } } });
    assert.equal(r.status, 409);
    assert.deepEqual(Object.keys(r.json()), META_FIELDS);
    const full = await rawCall(d.url, 'PUT', '/v1/var/app/one?cas=0', { token: 'mgmt', body: { Items: { k: 'x' } } });
    assert.deepEqual(full.json().Items, { k: 'app/one' });
  });

  it('list alone lists but does not read', async () => {
    assert.deepEqual(await list('lister', '?prefix=app/s'), ['default/app/secret/key']);
    denied(await read('lister', 'app/one'));
  });

  it('destroy alone deletes but does not write', async () => {
    denied(await write('destroyer', 'app/d'));
    assert.equal((await rawCall(d.url, 'DELETE', '/v1/var/app/nothing', { token: 'destroyer' })).status, 204);
  });

  it('grants no variable access through a namespace policy', async () => {
    denied(await read('job-writer', 'app/one'));
    denied(await write('job-writer', 'app/one'));
  });

  it('takes an exact path before globs, and the closest glob before a wider one', async () => {
    assert.equal((await read('closest', 'app/two')).status, 200, '"*" grants read');
    denied(await read('closest', 'app/secret/key')); // "app/secret/*" is closer: deny
    denied(await write('closest', 'app/secret/key'));
    assert.equal((await write('closest', 'app/one')).status, 200, 'the exact path grants write');
    denied(await read('closest', 'app/one')); // ...and only write: the glob's read does not add up
  });

  it('matches a namespace glob, each namespace by its own rules', async () => {
    assert.equal((await read('any-ns', 'shared/x', '?namespace=prod')).json().Items.k, 'prod');
    assert.equal((await read('any-ns', 'shared/x')).status, 200);
    assert.deepEqual(await list('any-ns', '?namespace=*'), ['default/shared/x', 'prod/shared/x']);
  });

  it("gives a workload identity read and list on its job's nomad/jobs paths, not write", async () => {
    assert.equal((await read('wi', 'nomad/jobs/web')).status, 200);
    assert.equal((await read('wi', 'nomad/jobs/web/g')).status, 200);
    denied(await read('wi', 'nomad/jobs/other'));
    denied(await read('wi', 'nomad/jobs/web', '?namespace=prod'));
    denied(await write('wi', 'nomad/jobs/web'));
    assert.deepEqual(await list('wi', '?prefix=nomad/'), ['default/nomad/jobs/web', 'default/nomad/jobs/web/g']);
  });
});
