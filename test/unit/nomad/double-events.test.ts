// The double's /v1/event/stream follows command/agent/event_endpoint.go and nomad/stream/*.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { NomadDouble, rawCall } from '../../helpers/nomad';

/** Reads ndjson lines from the stream until `n` lines came (or `ms` passed), then hangs up. */
async function lines(url: string, n: number, ms = 1000): Promise<any[]> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), ms);
  const out: any[] = [];
  try {
    const res = await fetch(url, { signal: ac.signal });
    assert.equal(res.status, 200);
    let buf = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += Buffer.from(chunk).toString('utf8');
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        out.push(JSON.parse(buf.slice(0, i)));
        buf = buf.slice(i + 1);
        if (out.length >= n) {
          ac.abort();
          return out;
        }
      }
    }
  } catch (e) {
    if ((e as Error).name !== 'AbortError') throw e;
  } finally {
    clearTimeout(timer);
  }
  return out;
}

/** The status a stream request gets, hung up on once it is known. */
async function streamStatus(url: string, token?: string): Promise<number> {
  const ac = new AbortController();
  const res = await fetch(url, { headers: token === undefined ? {} : { 'X-Nomad-Token': token }, signal: ac.signal });
  ac.abort();
  return res.status;
}

describe("the double streams events as Nomad's event stream does", () => {
  let d: NomadDouble | undefined;
  afterEach(async () => {
    await d?.stop();
    d = undefined;
  });

  it('starts with a heartbeat {} and replays the buffer from its head for index 0', async () => {
    d = await NomadDouble.start();
    d.addJob({ ID: 'web', TaskGroups: [{ Name: 'app', Count: 0 }] });
    const [hb, batch] = await lines(`${d.url}/v1/event/stream?topic=Job`, 2);
    assert.deepEqual(hb, {});
    assert.equal(batch.Events[0].Topic, 'Job');
    assert.equal(batch.Events[0].Type, 'JobRegistered');
    assert.equal(batch.Events[0].Key, 'web');
    assert.equal(batch.Events[0].Payload.Job.JobModifyIndex, batch.Index);
  });

  it('sends a scale as a JobRegistered event carrying the new JobModifyIndex, filtered by topic key', async () => {
    d = await NomadDouble.start();
    d.addJob({ ID: 'web', TaskGroups: [{ Name: 'app', Count: 0 }] });
    d.addJob({ ID: 'other', TaskGroups: [{ Name: 'app', Count: 0 }] });
    const from = d.currentIndex() + 1;
    const got = lines(`${d.url}/v1/event/stream?topic=Job:web&index=${from}`, 2);
    await new Promise((r) => setTimeout(r, 30));
    await rawCall(d.url, 'POST', '/v1/job/other/scale', { body: { Count: 1, Target: { Group: 'app' } } });
    const w = (await rawCall(d.url, 'POST', '/v1/job/web/scale', { body: { Count: 1, Target: { Group: 'app' } } })).json();
    const [, batch] = await got;
    assert.equal(batch.Events.length, 1);
    assert.equal(batch.Events[0].Key, 'web');
    assert.equal(batch.Events[0].Payload.Job.JobModifyIndex, w.JobModifyIndex);
    assert.equal(batch.Events[0].Payload.Job.TaskGroups[0].Count, 1);
  });

  it('starts an index older than the buffer at its head, without an error (an overrun)', async () => {
    d = await NomadDouble.start({ server: { eventBufferSize: 2 } });
    for (const id of ['a', 'b', 'c', 'd']) d.addJob({ ID: id, TaskGroups: [{ Name: 'app', Count: 0 }] });
    const [, first, second] = await lines(`${d.url}/v1/event/stream?topic=Job&index=1`, 3);
    assert.deepEqual([first.Events[0].Key, second.Events[0].Key], ['c', 'd']);
  });

  it("sends a heartbeat at its interval and refuses bad topics and indexes with Nomad's 400 texts", async () => {
    d = await NomadDouble.start({ server: { eventHeartbeatMs: 50 } });
    const got = await lines(`${d.url}/v1/event/stream`, 3, 1000);
    assert.deepEqual(got, [{}, {}, {}]);
    const bad = await rawCall(d.url, 'GET', '/v1/event/stream?topic=Job:a:b');
    assert.deepEqual([bad.status, bad.text], [400, 'Invalid topic query: error parsing topics: Invalid key value pair for topic, topic: Job:a:b']);
    assert.equal((await rawCall(d.url, 'GET', '/v1/event/stream?index=x')).status, 400);
  });

  it('can drop every open stream, or make them go silent (test faults)', async () => {
    d = await NomadDouble.start({ server: { eventHeartbeatMs: 30 } });
    const dropped = lines(`${d.url}/v1/event/stream?topic=Job`, 10, 1000);
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    d.dropEventStreams();
    const got = await dropped;
    assert.ok(Date.now() - t0 < 500, 'the stream ended at once');
    assert.ok(got.length >= 1 && got.length < 10);
    d.silenceEventStreams(true);
    assert.deepEqual(await lines(`${d.url}/v1/event/stream?topic=Job`, 1, 200), [], 'not even the first heartbeat');
    d.silenceEventStreams(false);
    assert.deepEqual(await lines(`${d.url}/v1/event/stream?topic=Job`, 1, 200), [{}]);
  });

  it('checks every topic in every namespace the request covers, as validateNsOp does: read-job for Job and Deployment, a management token for all topics', async () => {
    d = await NomadDouble.start({
      acl: true,
      namespaces: ['prod'],
      tokens: [
        { secretId: 'mgmt', management: true },
        { secretId: 'reader', rules: [{ namespace: 'default', capabilities: ['read-job'] }] },
        { secretId: 'scaling-reader', rules: [{ namespace: 'default', capabilities: ['read-job-scaling', 'scale-job'] }] },
        { secretId: 'everywhere', rules: [{ namespace: '*', policy: 'read' }], agent: 'write' },
      ],
    });
    const status = (query: string, token?: string): Promise<number> => streamStatus(`${d!.url}/v1/event/stream?${query}`, token);
    assert.equal(await status('topic=Job:web&topic=Deployment:web', 'reader'), 200);
    assert.equal(await status('topic=Job:web', 'scaling-reader'), 403, 'read-job-scaling is not read-job');
    assert.equal(await status('topic=Job:web&namespace=prod', 'reader'), 403, 'another namespace');
    assert.equal(await status('topic=Job&namespace=*', 'reader'), 403, '"*" checks every namespace, prod too');
    assert.equal(await status('topic=Job&namespace=*', 'everywhere'), 200);
    assert.equal(await status('topic=Job:web'), 403, 'anonymous');
    assert.equal(await status('topic=Job:web', 'not-a-token'), 403);
    for (const topics of ['', 'topic=*', 'topic=Job&topic=NodePool', 'topic=Node']) {
      assert.equal(await status(topics, 'everywhere'), 403, `${topics || 'no topic (all of them)'}: not without a management token`);
      assert.equal(await status(topics, 'mgmt'), 200, `${topics || 'no topic'}: with a management token`);
    }
  });

  it('names the job of a deployment in its filter keys', async () => {
    d = await NomadDouble.start();
    d.addJob({ ID: 'web', TaskGroups: [{ Name: 'app', Count: 1 }] });
    d.setActiveDeployment('web', true);
    const [, batch] = await lines(`${d.url}/v1/event/stream?topic=Deployment:web`, 2);
    assert.equal(batch.Events[0].Topic, 'Deployment');
    assert.deepEqual(batch.Events[0].FilterKeys, ['web']);
    assert.equal(batch.Events[0].Payload.Deployment.Status, 'running');
  });
});
