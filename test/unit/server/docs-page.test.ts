// /docs in a real browser: headless Chromium (Debian's `chromium`, which npm test installs; missing
// is a failure, not a skip) loads the page from the agent's server, fed synthetic connections (no
// BPF). Swagger UI lists every route of /openapi.json, everything comes from the agent under its
// CSP, and "Try it out" on /api/v1/connections sends the request and shows the rows it answered.
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { ConnPipelineEvent } from '../../../src/pipeline/event';
import { allRoutes } from '../../../src/server/openapi';
import { Browser, type Page } from '../../helpers/chromium';
import { connEvent } from '../pipeline/events';
import { NOW, startHarness, type Harness } from './harness';

const TOKEN = 'docs-page-test-token-0123456789';
const CONNECTIONS = '#operations-query-api_v1_connections';

let browser: Browser;
let open: Harness;
let guarded: Harness;
let proxy: http.Server;
let proxied: string;

/** What a page did while a test drove it: requests, failed responses, CSP violations, uncaught errors. */
interface Seen {
  requests: string[];
  failures: string[];
  exceptions: string[];
}

function fill(h: Harness): void {
  let sock = 0x100n;
  const add = (exe: string, over: Partial<ConnPipelineEvent>) => {
    sock += 0x40n;
    const e = (o: Partial<ConnPipelineEvent>) =>
      h.store.add(connEvent({ sock, exe, pid: exe.length, process: { pid: exe.length, executableName: exe, commandLine: exe }, ...over, ...o }));
    e({ kind: 'connect' });
    e({ kind: 'close', oldState: 'established', newState: 'closed', bytesSent: 5, bytesReceived: 2 });
  };
  add('curl', { timeUnixMs: NOW - 10_000, remotePort: 443 });
  add('curl', { timeUnixMs: NOW - 9_000, remotePort: 443 });
  add('wget', { timeUnixMs: NOW - 8_000, remoteAddress: '10.1.2.3', remotePort: 80 });
}

async function openPage(): Promise<{ page: Page; seen: Seen }> {
  const page = await browser.newPage();
  const seen: Seen = { requests: [], failures: [], exceptions: [] };
  page.on('Network.requestWillBeSent', (e) => seen.requests.push(e.request.url as string));
  page.on('Network.responseReceived', (e) => {
    if (e.response.status >= 400) seen.failures.push(`${e.response.status} ${e.response.url}`);
  });
  page.on('Network.loadingFailed', (e) => seen.failures.push(`${e.errorText} ${e.blockedReason ?? ''}`));
  page.on('Runtime.exceptionThrown', (e) => seen.exceptions.push(e.exceptionDetails.exception?.description ?? e.exceptionDetails.text));
  // Violations of the page's CSP are reported in the page; collect them from the first script on.
  await page.send('Page.addScriptToEvaluateOnNewDocument', {
    source: `window.__violations = []; document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));`,
  });
  return { page, seen };
}

const renderedPaths = (page: Page) =>
  page.evaluate<string[]>(`[...document.querySelectorAll('#swagger-ui .opblock .opblock-summary-path')].map((e) => e.getAttribute('data-path'))`);

/** Opens /api/v1/connections, presses "Try it out", types `process`, presses "Execute"; returns what the page shows. */
async function tryConnections(page: Page, process: string): Promise<{ requestUrl: string; status: string; body: any }> {
  const q = (sel: string) => JSON.stringify(`${CONNECTIONS} ${sel}`);
  await page.click(`${CONNECTIONS} .opblock-summary-control`);
  await page.waitFor('the "Try it out" button', `!!document.querySelector(${q('.try-out__btn')})`);
  await page.click(`${CONNECTIONS} .try-out__btn`);
  await page.waitFor('the parameter inputs', `!!document.querySelector(${q('tr[data-param-name="process"] input')})`);
  const prefilled = await page.evaluate<string[]>(
    `[...document.querySelectorAll(${q('.parameters input')})].filter((i) => i.value !== '').map((i) => i.placeholder)`,
  );
  assert.deepEqual(prefilled, [], '"Try it out" starts with no filter set (the examples are in the descriptions)');
  await page.click(`${CONNECTIONS} tr[data-param-name="process"] input`);
  await page.type(process);
  await page.click(`${CONNECTIONS} .execute`);
  await page.waitFor('the live response', `!!document.querySelector(${q('.live-responses-table .response-col_description .highlight-code code')})`);
  const shown = await page.evaluate<{ requestUrl: string; status: string; body: string }>(`({
    requestUrl: document.querySelector(${q('.request-url pre')}).textContent,
    status: document.querySelector(${q('.live-responses-table tbody .response-col_status')}).textContent,
    body: document.querySelector(${q('.live-responses-table .response-col_description .highlight-code code')}).textContent,
  })`);
  return { ...shown, body: JSON.parse(shown.body) };
}

before(async () => {
  browser = await Browser.launch();
  open = await startHarness();
  guarded = await startHarness({ bearer_token: TOKEN });
  fill(open);
  fill(guarded);
  // A reverse proxy that serves the agent under /agent/, as one in front of several agents might.
  const upstream = new URL(open.url);
  proxy = http.createServer((req, res) => {
    if (!req.url?.startsWith('/agent/')) {
      res.writeHead(404).end();
      return;
    }
    const up = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url.slice('/agent'.length), headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  proxied = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/agent`;
});
after(async () => {
  proxy?.closeAllConnections();
  proxy?.close();
  await browser?.close();
  await open?.stop();
  await guarded?.stop();
});

test('the page loads everything from the agent, under its CSP, and lists every route of /openapi.json', { timeout: 60_000 }, async () => {
  const { page, seen } = await openPage();
  await page.navigate(`${open.url}/docs`);
  const want = allRoutes('x').map((r) => r.path);
  await page.waitFor(`${want.length} operations`, `document.querySelectorAll('#swagger-ui .opblock').length === ${want.length}`);
  assert.deepEqual((await renderedPaths(page)).sort(), [...want].sort());
  assert.equal(await page.evaluate<string>(`document.querySelector('#swagger-ui .info .title').textContent`), 'netwatch agent API 9.9.9 OAS 3.1');
  assert.deepEqual(await page.evaluate(`window.__violations`), [], 'no CSP violation');
  assert.deepEqual(seen.failures, [], 'every request answered');
  assert.deepEqual(seen.exceptions, [], 'no uncaught error');
  const elsewhere = seen.requests.filter((u) => !u.startsWith(`${open.url}/`) && !u.startsWith('data:'));
  assert.deepEqual(elsewhere, [], 'nothing is fetched from anywhere but the agent (no CDN)');
  assert.ok(seen.requests.includes(`${open.url}/docs/swagger-ui-bundle.js`) && seen.requests.includes(`${open.url}/openapi.json`), seen.requests.join('\n'));
});

test('"Try it out" on /api/v1/connections sends the request and shows the connections the agent answered', { timeout: 60_000 }, async () => {
  const { page, seen } = await openPage();
  await page.navigate(`${open.url}/docs`);
  await page.waitFor('the connections operation', `!!document.querySelector(${JSON.stringify(CONNECTIONS)})`);
  const shown = await tryConnections(page, 'curl');
  assert.equal(shown.requestUrl, `${open.url}/api/v1/connections?process=curl`);
  assert.ok(seen.requests.includes(shown.requestUrl), 'the browser sent it');
  assert.equal(shown.status, '200');
  assert.deepEqual(shown.body, (await open.get('/api/v1/connections?process=curl')).body, 'the rendered body is what the API answers');
  assert.equal(shown.body.count, 4);
  assert.deepEqual(new Set(shown.body.events.map((e: any) => e.process.executable_name)), new Set(['curl']));
  assert.deepEqual(
    shown.body.events.map((e: any) => [e.kind, e.remote.port]),
    [
      ['close', 443],
      ['connect', 443],
      ['close', 443],
      ['connect', 443],
    ],
  );
  assert.deepEqual(seen.exceptions, []);
});

test('with a bearer token set, the page asks for it, says when it is refused, then lists and runs the routes with it', { timeout: 60_000 }, async () => {
  const { page, seen } = await openPage();
  await page.navigate(`${guarded.url}/docs`);
  const formShown = `!document.getElementById('netwatch-token').hidden`;
  await page.waitFor('the token form', formShown);
  assert.equal(await page.evaluate(`document.getElementById('netwatch-token-refused').hidden`), true, 'no token given yet: nothing was refused');
  const submit = async (token: string) => {
    await page.click('#netwatch-token input');
    await page.type(token);
    const reloaded = page.once('Page.loadEventFired');
    await page.click('#netwatch-token button');
    await reloaded;
  };
  await submit('not-the-token-at-all');
  await page.waitFor('the token form again', formShown);
  assert.equal(await page.evaluate(`document.getElementById('netwatch-token-refused').hidden`), false, 'a wrong token is said to be refused');
  await submit(TOKEN);
  const n = allRoutes('x').length;
  await page.waitFor(`${n} operations`, `document.querySelectorAll('#swagger-ui .opblock').length === ${n}`);
  assert.equal(await page.evaluate(formShown), false);
  const shown = await tryConnections(page, 'wget');
  assert.equal(shown.status, '200', 'the token went with the request');
  assert.equal(shown.body.count, 2);
  assert.deepEqual(shown.body, (await guarded.get('/api/v1/connections?process=wget', { authorization: `Bearer ${TOKEN}` })).body);
  assert.deepEqual(
    seen.failures.map((f) => f.replace(guarded.url, '')),
    ['401 /openapi.json', '401 /openapi.json'],
    'only the two loads without the right token were refused',
  );
});

test('behind a reverse proxy that adds a path prefix, the page loads and "Try it out" calls the API under that prefix', { timeout: 60_000 }, async () => {
  const { page, seen } = await openPage();
  await page.navigate(`${proxied}/docs`);
  await page.waitFor('the connections operation', `!!document.querySelector(${JSON.stringify(CONNECTIONS)})`);
  const shown = await tryConnections(page, 'wget');
  assert.equal(shown.requestUrl, `${proxied}/api/v1/connections?process=wget`);
  assert.equal(shown.status, '200');
  assert.equal(shown.body.count, 2);
  assert.deepEqual(
    seen.requests.filter((u) => !u.startsWith(`${proxied}/`) && !u.startsWith('data:')),
    [],
  );
  assert.deepEqual(seen.failures, []);
});
