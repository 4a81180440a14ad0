// /docs over HTTP: the page and the swagger-ui-dist files it loads, with their content types and
// the page's CSP, and nothing else under /docs — no request reaches another file, however encoded.
// (test/unit/server/docs-page.test.ts drives the page in Chromium.)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { DOCS_CSP } from '../../../src/server/docs';
import { startHarness, type Harness } from './harness';

const DIST = dirname(require.resolve('swagger-ui-dist/package.json'));
let h: Harness;
let guarded: Harness;

/** A request with the path exactly as given (fetch would normalize `..` and `%2e%2e` away first). */
function raw(
  url: string,
  path: string,
  method = 'GET',
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

before(async () => {
  h = await startHarness();
  guarded = await startHarness({ bearer_token: 'docs-test-token-0123456789' });
});
after(async () => {
  await h.stop();
  await guarded.stop();
});

test('/docs is an HTML page under a CSP that allows nothing but this agent, with no inline script', async () => {
  const r = await raw(h.url, '/docs');
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(r.headers['content-security-policy'], DOCS_CSP);
  assert.match(DOCS_CSP, /default-src 'none'/);
  assert.doesNotMatch(DOCS_CSP, /unsafe-inline|unsafe-eval|https?:/);
  assert.equal(r.headers['x-content-type-options'], 'nosniff');
  const html = r.body.toString('utf8');
  const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
  assert.deepEqual(
    scripts.map((m) => [m[1]!.trim(), m[2]!.trim()]),
    [
      ['src="docs/swagger-ui-bundle.js"', ''],
      ['src="docs/init.js"', ''],
    ],
  );
  assert.doesNotMatch(html, /\sstyle=|<style/, 'no inline style either');
});

test('every file the page references is served from node_modules/swagger-ui-dist (or is the agent’s init script) with its content type', async () => {
  const html = (await raw(h.url, '/docs')).body.toString('utf8');
  const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
  assert.deepEqual(refs.sort(), [
    'docs/favicon-16x16.png',
    'docs/favicon-32x32.png',
    'docs/index.css',
    'docs/init.js',
    'docs/swagger-ui-bundle.js',
    'docs/swagger-ui.css',
  ]);
  const types: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', png: 'image/png' };
  for (const ref of refs) {
    const r = await raw(h.url, `/${ref}`);
    assert.equal(r.status, 200, ref);
    assert.equal(r.headers['content-type'], types[ref.split('.').pop()!], ref);
    assert.equal(Number(r.headers['content-length']), r.body.length, ref);
    if (ref !== 'docs/init.js') assert.ok(r.body.equals(readFileSync(join(DIST, ref.slice('docs/'.length)))), `${ref} is the package's file`);
  }
  const init = (await raw(h.url, '/docs/init.js')).body.toString('utf8');
  assert.match(init, /new URL\('openapi\.json', document\.baseURI\)/, 'the init script points at this agent’s /openapi.json');
  assert.match(init, /validatorUrl: null/);
});

test('no path under /docs reaches a file that is not listed, however it is written', async () => {
  for (const path of [
    '/docs/../package.json',
    '/docs/..%2fpackage.json',
    '/docs/%2e%2e/%2e%2e/package.json',
    '/docs/%2E%2E%2F%2E%2E%2Fpackage.json',
    '/docs/..\\..\\package.json',
    '/docs/package.json',
    '/docs/index.html',
    '/docs/swagger-initializer.js',
    '/docs//etc/passwd',
    '/docs/%2fetc%2fpasswd',
    '/docs/swagger-ui.css%00.png',
    '/docs/constructor',
    '/docs/__proto__',
    '/docs/docs/init.js',
  ]) {
    const r = await raw(h.url, path);
    assert.equal(r.status, 404, path);
    assert.match(r.headers['content-type'] ?? '', /^application\/json/, path);
    assert.doesNotMatch(r.body.toString('utf8'), /"name"\s*:\s*"(netwatch|swagger-ui-dist)"|root:/, path);
  }
});

test('/docs/ redirects to /docs, whose relative links need no trailing slash', async () => {
  const r = await raw(h.url, '/docs/');
  assert.equal(r.status, 308);
  assert.equal(new URL(r.headers.location!, `${h.url}/docs/`).href, `${h.url}/docs`);
});

test('the page and its files need no token (a browser cannot send one when it navigates); /openapi.json still does', async () => {
  for (const path of ['/docs', '/docs/init.js', '/docs/swagger-ui-bundle.js']) assert.equal((await raw(guarded.url, path)).status, 200, path);
  assert.equal((await raw(guarded.url, '/openapi.json')).status, 401);
});

test('HEAD answers the headers alone, a matching If-None-Match a 304, and anything but GET or HEAD a 405', async () => {
  const head = await raw(h.url, '/docs/swagger-ui.css', 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.body.length, 0);
  assert.equal(Number(head.headers['content-length']), readFileSync(join(DIST, 'swagger-ui.css')).length);
  const etag = head.headers.etag!;
  assert.equal((await raw(h.url, '/docs/swagger-ui.css', 'GET', { 'if-none-match': etag })).status, 304);
  const page = await raw(h.url, '/docs');
  assert.equal((await raw(h.url, '/docs', 'GET', { 'if-none-match': page.headers.etag! })).status, 304);
  assert.notEqual(page.headers.etag, etag);
  const post = await raw(h.url, '/docs', 'POST');
  assert.equal(post.status, 405);
  assert.equal(post.headers.allow, 'GET, HEAD');
});

test('an unknown route names /docs among the routes', async () => {
  const r = await h.get('/nope');
  assert.equal(r.status, 404);
  assert.match(r.body.problems[0], /, \/docs$/);
});
