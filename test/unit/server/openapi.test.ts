// /openapi.json is generated from the route table: every route the server answers is in it, the
// document is valid OpenAPI 3.1, and real responses match the schemas it documents.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Ajv2020 from 'ajv/dist/2020';
import { Validator } from '@seriousme/openapi-schema-validator';
import { allRoutes } from '../../../src/server/openapi';
import { connEvent, sniEvent } from '../pipeline/events';
import { baseStatus, NOW, startHarness, type Harness } from './harness';

let h: Harness;
let doc: any;

before(async () => {
  h = await startHarness();
  h.store.add(connEvent({ timeUnixMs: NOW - 1000, process: { pid: 42, executableName: 'curl', commandLine: 'curl x' } }));
  h.store.add(
    connEvent({
      timeUnixMs: NOW - 900,
      kind: 'close',
      newState: 'closed',
      error: 111,
      container: { cgroupPath: '/docker/x', runtime: 'docker', id: 'abc' },
      nomad: { allocId: 'a', task: 't' },
    }),
  );
  h.store.add(sniEvent({ timeUnixMs: NOW - 800 }));
  h.store.add(sniEvent({ timeUnixMs: NOW - 700, kind: 'syn', serverName: undefined }));
  doc = (await h.get('/openapi.json')).body;
});
after(() => h.stop());

test('every route the server answers is a path in /openapi.json, and nothing else is', () => {
  assert.deepEqual(
    Object.keys(doc.paths).sort(),
    allRoutes('x')
      .map((r) => r.path)
      .sort(),
  );
  for (const r of allRoutes('x')) {
    const op = doc.paths[r.path].get;
    assert.deepEqual(
      op.parameters.map((p: any) => p.name),
      r.params.map((p) => p.name),
      `${r.path} documents the parameters it parses`,
    );
  }
});

test('the document is valid OpenAPI 3.1', async () => {
  const v = new Validator();
  const res = await v.validate(doc);
  assert.equal(res.valid, true, JSON.stringify(res.errors, null, 2));
  assert.equal(doc.openapi, '3.1.0');
  assert.equal(doc.info.version, '9.9.9');
});

test('the liveness and readiness probes need no token; everything else is under bearer security', () => {
  assert.deepEqual(doc.paths['/livez'].get.security, []);
  assert.deepEqual(doc.paths['/readyz'].get.security, []);
  assert.equal(doc.paths['/health'].get.security, undefined);
  assert.deepEqual(doc.security, [{ bearer: [] }]);
});

test('real responses of every route match the schema documented for their status', async () => {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addFormat('date-time', (s: string) => !Number.isNaN(Date.parse(s)) && /T/.test(s));
  const check = async (path: string, expectStatus: number) => {
    const r = await h.get(path);
    assert.equal(r.status, expectStatus, path);
    const route = doc.paths[path.split('?')[0]].get;
    const schema = route.responses[String(r.status)]?.content['application/json'].schema;
    assert.ok(schema, `${path}: status ${r.status} is documented`);
    const validate = ajv.compile(schema);
    assert.ok(validate(r.body), `${path}: ${JSON.stringify(validate.errors)}`);
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
  };
  for (const r of allRoutes('x')) await check(r.path, 200);
  await check('/api/v1/connections?port=oops', 400);
  h.status.current = baseStatus({ receivers: { connections: { type: 'connections', state: 'failed', sinceUnixMs: NOW, error: 'EPERM' } } });
  await check('/readyz', 503);
  await check('/health', 503);
  h.status.current = baseStatus();
});
