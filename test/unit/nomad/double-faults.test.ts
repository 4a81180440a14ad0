// Fault injection and request recording in the double.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { NO_DEPLOYMENTS, NomadDouble, rawCall, tokenHash } from '../../helpers/nomad';

describe('the Nomad double injects faults and records requests', () => {
  let d: NomadDouble;
  before(async () => {
    d = await NomadDouble.start();
    d.addJob({ ID: 'web', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'app', Count: 0 }] });
  });
  after(() => d.stop());

  it('answers the next N requests with the injected status, then recovers', async () => {
    d.failNext(2, 503, 'no leader');
    const a = await rawCall(d.url, 'GET', '/v1/job/web/scale');
    const b = await rawCall(d.url, 'GET', '/v1/job/web/scale');
    const c = await rawCall(d.url, 'GET', '/v1/job/web/scale');
    assert.deepEqual([a.status, a.text, b.status, c.status], [503, 'no leader', 503, 200]);
  });

  it('adds latency to every request until turned off', async () => {
    d.delay(200);
    const t0 = Date.now();
    await rawCall(d.url, 'GET', '/v1/job/web');
    assert.ok(Date.now() - t0 >= 190);
    d.delay(0);
    const t1 = Date.now();
    await rawCall(d.url, 'GET', '/v1/job/web');
    assert.ok(Date.now() - t1 < 150);
  });

  it('resets the connection of the next N requests', async () => {
    d.resetNext(1);
    await assert.rejects(rawCall(d.url, 'GET', '/v1/job/web'));
    assert.equal((await rawCall(d.url, 'GET', '/v1/job/web')).status, 200);
  });

  it('records method, path, query and body, with the token replaced by its hash', async () => {
    d.clearRequests();
    await rawCall(d.url, 'POST', '/v1/job/web/scale?namespace=default', { token: 's3cret-token', body: { Count: 1, Target: { Group: 'app' } } });
    const [r] = d.requests();
    assert.deepEqual([r.method, r.path, r.query, r.body], ['POST', '/v1/job/web/scale', { namespace: 'default' }, { Count: 1, Target: { Group: 'app' } }]);
    assert.equal(r.headers['x-nomad-token'], tokenHash('s3cret-token'));
    assert.equal(tokenHash('s3cret-token'), `sha256:${createHash('sha256').update('s3cret-token').digest('hex').slice(0, 16)}`);
    assert.ok(!JSON.stringify(d.requests()).includes('s3cret-token'));
    assert.equal(d.count('POST', '/v1/job/web/scale'), 1);
  });

  it('records requests that were failed or reset too, so retries can be counted', async () => {
    d.clearRequests();
    d.failNext(1);
    d.resetNext(1);
    await rawCall(d.url, 'GET', '/v1/job/web').catch(() => undefined);
    await rawCall(d.url, 'GET', '/v1/job/web');
    assert.equal(d.count('GET', '/v1/job/web'), 2);
  });
});
