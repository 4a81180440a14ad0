// With a bearer token configured, everything but the probes needs it; the token is never logged.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { bearerAuthenticator } from '../../../src/server/auth';
import { setLogSink } from '../../../src/log';
import { startHarness, type Harness } from './harness';

const TOKEN = 's3cr3t-t0ken-0123456789abcdef';
let h: Harness;
const logged: string[] = [];

before(async () => {
  setLogSink((line) => logged.push(line));
  h = await startHarness({ bearer_token: TOKEN });
});
after(async () => {
  await h.stop();
  setLogSink((line) => process.stderr.write(line + '\n'));
});

test('without the token /health, the query API and /openapi.json answer 401 with a Bearer challenge', async () => {
  for (const path of ['/health', '/api/v1/connections', '/api/v1/connections/summary', '/api/v1/sni', '/api/v1/sni/summary', '/openapi.json']) {
    const r = await h.get(path);
    assert.deepEqual([path, r.status, r.headers.get('www-authenticate')], [path, 401, 'Bearer realm="netwatch"']);
  }
});

test('a wrong token, a prefix of it, another scheme or a longer token are refused', async () => {
  for (const value of [`Bearer wrong`, `Bearer ${TOKEN.slice(0, -1)}`, `Basic ${TOKEN}`, `Bearer ${TOKEN}x`, TOKEN, '']) {
    assert.equal((await h.get('/health', { authorization: value })).status, 401, value);
  }
});

test('the right token is accepted; the probes never need it', async () => {
  assert.equal((await h.get('/health', { authorization: `Bearer ${TOKEN}` })).status, 200);
  assert.equal((await h.get('/api/v1/connections?since=1m', { authorization: `bearer ${TOKEN}` })).status, 200);
  assert.equal((await h.get('/livez')).status, 200);
  assert.equal((await h.get('/readyz')).status, 200);
});

test('the token appears in no log line and no response', async () => {
  const bodies = await Promise.all(
    ['/health', '/openapi.json'].map((p) => fetch(h.url + p, { headers: { authorization: `Bearer ${TOKEN}` } }).then((r) => r.text())),
  );
  assert.ok(bodies.every((b) => !b.includes(TOKEN)));
  assert.ok(
    logged.every((l) => !l.includes(TOKEN)),
    logged.join('\n'),
  );
});

test('the authenticator accepts exactly the token', () => {
  const ok = bearerAuthenticator(TOKEN);
  assert.equal(ok(`Bearer ${TOKEN}`), true);
  assert.equal(ok(undefined), false);
  assert.equal(ok('Bearer '), false);
  assert.equal(bearerAuthenticator('')(undefined), true, 'no token configured: no authentication');
});
