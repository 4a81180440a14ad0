// The agent's Nomad client against the API double: calls, headers, error kinds, timeouts, resets.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import { NomadError } from '../../../src/errors';
import { NomadClient, resolveNomadSettings } from '../../../src/pipeline/processors/nomad_autostart/client';
import { NO_DEPLOYMENTS, NomadDouble, tokenHash } from '../../helpers/nomad';

const TOKEN = 'c0ffee00-TOKEN-SECRET-0000-000000000001';
const READER = 'c0ffee00-READER-SECRET-000-000000000002';

/** Runs `fn`, expects a NomadError, and checks no secret leaked into any printable form of it. */
async function nomadFailure(fn: () => Promise<unknown>, secrets: string[] = [TOKEN, READER]): Promise<NomadError> {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof NomadError, `expected a NomadError, got ${inspect(e)}`);
    for (const text of [e.message, String(e.body), inspect(e, { depth: 5, showHidden: true }), e.stack ?? '']) {
      for (const s of secrets) assert.ok(!text.includes(s), `secret leaked into: ${text}`);
    }
    return e;
  }
  assert.fail('expected the call to fail');
}

describe('the Nomad client talks to Nomad as nomad_autostart needs', () => {
  let d: NomadDouble;
  let client: NomadClient;
  let reader: NomadClient;
  before(async () => {
    d = await NomadDouble.start({
      acl: true,
      pendingDelayMs: 50,
      namespaces: ['prod'],
      tokens: [
        { secretId: TOKEN, rules: [{ namespace: '*', policy: 'write' }] },
        { secretId: READER, rules: [{ namespace: 'default', policy: 'read' }] },
      ],
    });
    d.addJob({ ID: 'web', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'app', Count: 0 }] });
    d.addJob({ ID: 'bounded', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'app', Count: 1, Scaling: { Min: 1, Max: 2 } }] });
    d.addJob({ ID: 'web', Update: NO_DEPLOYMENTS, Namespace: 'prod', TaskGroups: [{ Name: 'app', Count: 0 }] });
    client = new NomadClient(resolveNomadSettings({}, { NOMAD_ADDR: d.url, NOMAD_TOKEN: TOKEN }));
    reader = new NomadClient(resolveNomadSettings({ timeoutMs: 300 }, { NOMAD_ADDR: d.url, NOMAD_TOKEN: READER }));
  });
  after(async () => {
    await client.close();
    await reader.close();
    await d.stop();
  });

  it('sends the token as X-Nomad-Token on every call', async () => {
    d.clearRequests();
    await client.readJob('web');
    await client.jobScaleStatus('web');
    await client.allocations('web');
    const reqs = d.requests();
    assert.equal(reqs.length, 3);
    for (const r of reqs) assert.equal(r.headers['x-nomad-token'], tokenHash(TOKEN));
  });

  it('scales a group and sees Nomad record the event with its message and meta', async () => {
    const w = await client.scale('web', 'app', 1, 'traffic on :8080', { peer: '10.1.2.3' });
    assert.ok(w.EvalID !== '' && w.Index > w.JobModifyIndex);
    const body = d.requests().at(-1)!.body as any;
    assert.deepEqual(body.Target, { Job: 'web', Group: 'app' });
    const s = await client.jobScaleStatus('web');
    assert.equal(s.value.TaskGroups.app.Desired, 1);
    assert.deepEqual([s.value.TaskGroups.app.Events[0].Message, s.value.TaskGroups.app.Events[0].Meta], ['traffic on :8080', { peer: '10.1.2.3' }]);
    assert.ok(s.index > 0 && s.knownLeader);
  });

  it('blocks on scale status until allocations are running', async () => {
    let s = await client.jobScaleStatus('web');
    const deadline = Date.now() + 3000;
    while (s.value.TaskGroups.app.Running < 1 && Date.now() < deadline) s = await client.jobScaleStatus('web', undefined, { index: s.index, waitMs: 2000 });
    assert.equal(s.value.TaskGroups.app.Running, 1);
    assert.ok(d.count('GET', '/v1/job/web/scale') < 10, 'blocking, not busy polling');
    const q = d
      .requests()
      .filter((r) => r.query.index !== undefined)
      .at(-1)!.query;
    assert.equal(q.wait, '2000ms');
  });

  it('returns a blocking allocations query when the wait ends with nothing new', async () => {
    const a = await client.allocations('web');
    const t0 = Date.now();
    const b = await client.allocations('web', undefined, { index: a.index, waitMs: 200 });
    assert.ok(Date.now() - t0 >= 190);
    assert.equal(b.index, a.index);
    assert.equal(b.value.length, 1);
  });

  it('passes the namespace as ?namespace= and in Target', async () => {
    await client.scale('web', 'app', 1, 'prod traffic', undefined, 'prod');
    const r = d.requests().at(-1)!;
    assert.equal(r.query.namespace, 'prod');
    assert.equal((r.body as any).Target.Namespace, 'prod');
    assert.equal(d.job('web', 'prod')!.TaskGroups[0].Count, 1);
  });

  it('restarts a stopped job by registering it with Stop=false', async () => {
    d.addJob({ ID: 'sleepy', Update: NO_DEPLOYMENTS, Stop: true, TaskGroups: [{ Name: 'app', Count: 1 }] });
    const job = (await client.readJob('sleepy')).value;
    assert.equal(job.Stop, true);
    await client.registerJob({ ...job, Stop: false }, { preserveCounts: true });
    assert.equal(d.job('sleepy')!.Stop, false);
    assert.deepEqual(d.requests().at(-1)!.body, { Job: { ...job, Stop: false }, PreserveCounts: true });
  });

  it('classifies an active deployment', async () => {
    d.setActiveDeployment('web', true);
    const e = await nomadFailure(() => client.scale('web', 'app', 2, 'more'));
    d.setActiveDeployment('web', false);
    assert.deepEqual([e.kind, e.status, e.body, e.retryable], ['active_deployment', 400, 'job scaling blocked due to active deployment', true]);
    assert.match(e.message, /400 job scaling blocked due to active deployment/);
  });

  it('classifies a count outside the scaling policy', async () => {
    const e = await nomadFailure(() => client.scale('bounded', 'app', 0, 'idle'));
    assert.deepEqual([e.kind, e.status, e.body], ['policy_violation', 400, 'group count was less than scaling policy minimum: 0 < 1']);
    const f = await nomadFailure(() => client.scale('bounded', 'app', 3, 'busy'));
    assert.equal(f.kind, 'policy_violation');
  });

  it('classifies a missing permission as forbidden', async () => {
    const e = await nomadFailure(() => reader.scale('web', 'app', 0, 'idle'));
    assert.deepEqual([e.kind, e.status, e.body, e.retryable], ['forbidden', 403, 'Permission denied', false]);
  });

  it('classifies an unknown job as not_found', async () => {
    const e = await nomadFailure(() => client.jobScaleStatus('ghost'));
    assert.deepEqual([e.kind, e.status, e.body], ['not_found', 404, 'job not found']);
  });

  it("says as of which index a job was missing (a 404's X-Nomad-Index)", async () => {
    // The double's index may move meanwhile (deployments of earlier tests finish on their own clock):
    // the 404 names the index as of its answer, between the two readings.
    const before = d.currentIndex();
    const e = await nomadFailure(() => client.readJob('ghost'));
    const after = d.currentIndex();
    assert.equal(e.kind, 'not_found');
    assert.ok(e.index !== undefined && e.index >= before && e.index <= after, `index ${e.index} outside ${before}..${after}`);
  });

  it('follows the event stream with one topic parameter per topic, until aborted', async () => {
    const ac = new AbortController();
    const res = await client.eventStream({ namespace: 'default', topics: ['Job:web', 'Deployment:web'], index: 0, signal: ac.signal });
    const first = (await res.body[Symbol.asyncIterator]().next()).value as Buffer;
    ac.abort();
    assert.equal(first.toString('utf8').split('\n')[0], '{}', 'the first line is a heartbeat');
    const req = d
      .requests()
      .filter((r) => r.path === '/v1/event/stream')
      .at(-1)!;
    assert.deepEqual(new URLSearchParams(req.search).getAll('topic'), ['Job:web', 'Deployment:web']);
    assert.equal(req.query.index, '0');
  });

  it('is refused /v1/agent/self without agent:read, as a forbidden call', async () => {
    const e = await nomadFailure(() => client.agentSelf());
    assert.deepEqual([e.kind, e.status], ['forbidden', 403]);
  });

  it('classifies a scale of a group the job lacks as group_not_found, and other 400s as bad_request', async () => {
    const e = await nomadFailure(() => client.scale('web', 'db', 1, 'x'));
    assert.deepEqual([e.kind, e.status], ['group_not_found', 400]);
    assert.match(e.message, /task group "db" specified for scaling does not exist in job/);
    const neg = await nomadFailure(() => client.scale('web', 'web', -1, 'x'));
    assert.deepEqual([neg.kind, neg.status, neg.body], ['bad_request', 400, "scaling action count can't be negative"]);
  });

  it('classifies a 5xx as server and retryable', async () => {
    d.failNext(1, 500, 'rpc error: No cluster leader');
    const e = await nomadFailure(() => client.readJob('web'));
    assert.deepEqual([e.kind, e.status, e.retryable], ['server', 500, true]);
  });

  it('scrubs a token that a server echoes back', async () => {
    d.failNext(1, 500, `bad token ${TOKEN} given`);
    const e = await nomadFailure(() => client.readJob('web'));
    assert.match(e.body!, /bad token <redacted> given/);
  });

  it('times out a slow answer with kind timeout', async () => {
    d.delay(1000);
    const t0 = Date.now();
    const e = await nomadFailure(() => reader.readJob('web'));
    d.delay(0);
    assert.equal(e.kind, 'timeout');
    assert.ok(Date.now() - t0 < 900, 'gave up at the per-request timeout');
    assert.match(e.message, /timed out: no answer within 300 ms/);
  });

  it('honours a per-call timeout', async () => {
    d.delay(500);
    const e = await nomadFailure(() => client.readJob('web', undefined, { timeoutMs: 100 }));
    d.delay(0);
    assert.equal(e.kind, 'timeout');
  });

  it('classifies a reset connection as connection, without retrying the scale', async () => {
    d.clearRequests();
    d.resetNext(1);
    const e = await nomadFailure(() => client.scale('web', 'app', 1, 'again'));
    assert.deepEqual([e.kind, e.status, e.retryable], ['connection', undefined, true]);
    assert.equal(d.count('POST', '/v1/job/web/scale'), 1);
    assert.equal((await client.readJob('web')).value.ID, 'web', 'the pool recovers');
  });

  it('classifies a refused connection as connection', async () => {
    const dead = new NomadClient(resolveNomadSettings({ timeoutMs: 2000 }, { NOMAD_ADDR: 'http://127.0.0.1:1', NOMAD_TOKEN: TOKEN }));
    const e = await nomadFailure(() => dead.readJob('web'));
    await dead.close();
    assert.equal(e.kind, 'connection');
    assert.match(e.message, /ECONNREFUSED/);
  });

  it('reuses kept-alive connections across calls', async () => {
    for (let i = 0; i < 3; i++) await client.readJob('web'); // the pool may open a second socket while the first frees up
    const opened = d.connections();
    for (let i = 0; i < 10; i++) await client.readJob('web');
    assert.equal(d.connections(), opened, 'ten sequential calls opened no new connection');
  });

  it("prints neither the token nor the client's headers when the client is inspected", () => {
    for (const text of [inspect(client, { depth: 10, showHidden: true }), JSON.stringify(client), String(client.settings)]) {
      assert.ok(!text.includes(TOKEN), text);
    }
  });
});

describe('the Nomad client sends basic auth through a proxy', () => {
  it('sends NOMAD_HTTP_AUTH as Basic credentials, and never shows the password', async () => {
    const d = await NomadDouble.start({ basicAuth: { username: 'alice', password: 'pw-SECRET-789' } });
    d.addJob({ ID: 'web', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'app', Count: 0 }] });
    const ok = new NomadClient(resolveNomadSettings({}, { NOMAD_ADDR: d.url, NOMAD_HTTP_AUTH: 'alice:pw-SECRET-789' }));
    const bad = new NomadClient(resolveNomadSettings({}, { NOMAD_ADDR: d.url, NOMAD_HTTP_AUTH: 'alice:wrong-SECRET-000' }));
    try {
      assert.equal((await ok.readJob('web')).value.ID, 'web');
      assert.equal(d.requests()[0].headers.authorization, 'Basic <redacted user=alice>');
      const e = await nomadFailure(() => bad.readJob('web'), ['wrong-SECRET-000', Buffer.from('alice:wrong-SECRET-000').toString('base64')]);
      assert.deepEqual([e.kind, e.status], ['forbidden', 401]);
      const b64 = Buffer.from('alice:pw-SECRET-789').toString('base64');
      for (const text of [inspect(ok.settings), inspect(ok, { depth: 10, showHidden: true }), JSON.stringify(ok)]) {
        assert.ok(!text.includes('pw-SECRET-789') && !text.includes(b64), text);
      }
    } finally {
      await ok.close();
      await bad.close();
      await d.stop();
    }
  });
});
