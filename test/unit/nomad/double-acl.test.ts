// ACL tokens, namespaces and regions in the double (nomad/auth/auth.go, acl/policy.go, rpc.go).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NO_DEPLOYMENTS, NomadDouble, rawCall } from '../../helpers/nomad';

describe('the Nomad double enforces ACLs per namespace', () => {
  let d: NomadDouble;
  before(async () => {
    d = await NomadDouble.start({
      acl: true,
      namespaces: ['prod'],
      tokens: [
        { secretId: 'mgmt-secret', management: true },
        { secretId: 'reader-secret', rules: [{ namespace: 'default', policy: 'read' }] },
        { secretId: 'scaler-secret', rules: [{ namespace: 'default', capabilities: ['read-job', 'scale-job'] }] },
        { secretId: 'submitter-secret', rules: [{ namespace: 'default', capabilities: ['submit-job'] }] },
        { secretId: 'prod-scaler', rules: [{ namespace: 'prod', policy: 'scale' }] },
        { secretId: 'expired-secret', management: true, expired: true },
      ],
    });
    d.addJob({ ID: 'web', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'app', Count: 0 }] });
    d.addJob({ ID: 'web', Update: NO_DEPLOYMENTS, Namespace: 'prod', TaskGroups: [{ Name: 'app', Count: 0 }] });
  });
  after(() => d.stop());

  const scale = (token: string | undefined, q = '') => rawCall(d.url, 'POST', `/v1/job/web/scale${q}`, { token, body: { Count: 1, Target: { Group: 'app' } } });

  it('answers 403 "Permission denied" without a token', async () => {
    const r = await rawCall(d.url, 'GET', '/v1/job/web/scale');
    assert.deepEqual([r.status, r.text], [403, 'Permission denied']);
  });

  it('answers 403 "Permission denied" for an unknown or expired token', async () => {
    for (const t of ['not-a-token', 'expired-secret']) {
      const r = await rawCall(d.url, 'GET', '/v1/job/web/scale', { token: t });
      assert.deepEqual([r.status, r.text], [403, 'Permission denied'], t);
    }
  });

  it('lets a read policy read but not scale', async () => {
    assert.equal((await rawCall(d.url, 'GET', '/v1/job/web/scale', { token: 'reader-secret' })).status, 200);
    const r = await scale('reader-secret');
    assert.deepEqual([r.status, r.text], [403, 'Permission denied']);
  });

  it('lets scale-job or submit-job scale', async () => {
    assert.equal((await scale('scaler-secret')).status, 200);
    assert.equal((await scale('submitter-secret')).status, 200);
  });

  it('checks ACLs before the job lookup, so an unreadable unknown job is a 403 not a 404', async () => {
    const r = await rawCall(d.url, 'POST', '/v1/job/ghost/scale', { token: 'reader-secret', body: { Count: 1, Target: { Group: 'app' } } });
    assert.equal(r.status, 403);
  });

  it('takes the token from "Authorization: Bearer" too', async () => {
    const r = await rawCall(d.url, 'GET', '/v1/job/web', { headers: { Authorization: 'Bearer mgmt-secret' } });
    assert.equal(r.status, 200);
  });

  it('scopes capabilities to their namespace', async () => {
    assert.equal((await scale('prod-scaler', '?namespace=prod')).status, 200);
    assert.equal((await scale('prod-scaler')).status, 403);
    assert.equal((await scale('scaler-secret', '?namespace=prod')).status, 403);
  });

  it('keeps jobs of the same ID apart per namespace', async () => {
    const prod = (await rawCall(d.url, 'GET', '/v1/job/web/scale?namespace=prod', { token: 'mgmt-secret' })).json();
    assert.equal(prod.Namespace, 'prod');
    const def = (await rawCall(d.url, 'GET', '/v1/job/web/scale', { token: 'mgmt-secret' })).json();
    assert.equal(def.Namespace, 'default');
  });

  it('treats an unknown namespace as holding no jobs', async () => {
    const r = await rawCall(d.url, 'GET', '/v1/job/web/scale?namespace=nowhere', { token: 'mgmt-secret' });
    assert.deepEqual([r.status, r.text], [404, 'job not found']);
    const s = await rawCall(d.url, 'POST', '/v1/job/web/scale?namespace=nowhere', { token: 'mgmt-secret', body: { Count: 1, Target: { Group: 'app' } } });
    assert.deepEqual([s.status, s.text], [404, 'job "web" not found']);
  });

  it('accepts its own region and answers 500 "No path to region" for another', async () => {
    assert.equal((await rawCall(d.url, 'GET', '/v1/job/web?region=global', { token: 'mgmt-secret' })).status, 200);
    const r = await rawCall(d.url, 'GET', '/v1/job/web?region=mars', { token: 'mgmt-secret' });
    assert.deepEqual([r.status, r.text], [500, 'No path to region']);
  });

  it('hides an allocation the token may not read as `Unknown allocation`', async () => {
    await scale('prod-scaler', '?namespace=prod');
    await new Promise((r) => setTimeout(r, 50));
    const [a] = d.allocations('web', 'prod');
    const r = await rawCall(d.url, 'GET', `/v1/allocation/${a.ID}`, { token: 'reader-secret' });
    assert.deepEqual([r.status, r.text], [500, `Unknown allocation "${a.ID}"`]);
    assert.equal((await rawCall(d.url, 'GET', `/v1/allocation/${a.ID}`, { token: 'prod-scaler' })).status, 200);
  });
});

describe('the Nomad double checks job registration by the servers version', () => {
  const tokens = [
    { secretId: 'mgmt', management: true },
    { secretId: 'registrar', rules: [{ namespace: 'default', capabilities: ['register-job'] }] },
    { secretId: 'submitter', rules: [{ namespace: 'default', capabilities: ['submit-job'] }] },
  ];
  const register = async (d: NomadDouble, token: string): Promise<number> => {
    const job = (await rawCall(d.url, 'GET', '/v1/job/web', { token: 'mgmt' })).json();
    return (await rawCall(d.url, 'PUT', '/v1/jobs', { token, body: { Job: job } })).status;
  };

  for (const [version, registrar] of [
    ['2.0.0', 200],
    ['1.11.2', 403],
  ] as const) {
    it(`Nomad ${version}: submit-job registers, register-job ${registrar === 200 ? 'too' : 'does not (it came with 2.0)'}`, async () => {
      const d = await NomadDouble.start({ acl: true, tokens, server: { version } });
      try {
        d.addJob({ ID: 'web', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'app', Count: 0 }] });
        assert.equal(await register(d, 'submitter'), 200);
        assert.equal(await register(d, 'registrar'), registrar);
      } finally {
        await d.stop();
      }
    });
  }
});
