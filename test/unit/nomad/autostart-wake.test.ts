// nomad_autostart wakes: synthetic events through the real pipeline runner, against the Nomad API
// double on loopback. Counts of Nomad calls are exact. The double runs a current Nomad, so a wake
// decides from warm state and writes once; the read-then-write of older servers is at the end.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { NO_DEPLOYMENTS, NomadDouble, rawCall } from '../../helpers/nomad';
import { captureLog, captureTelemetry, sleep, startAutostart, until, untilHeard, type AutostartRig, type CapturedLog } from '../../helpers/autostart';
import { connEvent, sniEvent } from '../pipeline/events';

const HOST = 'agent-7.example';
const SCALE = '/v1/job/web/scale';

function webRule(extra = '', match = '{ sni: [app.example.com, "*.app.example.com"], ports: [443] }'): string {
  return `    agent_host: ${HOST}
    rules:
      - name: web
        match: ${match}
        job: web
        group: web
        wait_for: none
${extra}`;
}

const hello = (serverName: string, clientAddress = '10.1.2.3', serverPort = 443) =>
  sniEvent({ serverName, clientAddress, serverPort, readAtNs: process.hrtime.bigint() });

describe('nomad_autostart wakes a group at zero on matching traffic', () => {
  let d: NomadDouble;
  let rig: AutostartRig | undefined;
  let log: CapturedLog | undefined;
  afterEach(async () => {
    log?.restore();
    await rig?.stop();
    await d?.stop();
    rig = undefined;
    log = undefined;
  });

  /** The processor started, its warm state live; the request log then starts empty. */
  async function setup(
    rules: string,
    jobs: Parameters<NomadDouble['addJob']>[0][] = [{ ID: 'web', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'web', Count: 0 }] }],
    env?: Record<string, string>,
    version?: string,
  ) {
    d = await NomadDouble.start({ pendingDelayMs: 30, namespaces: ['prod'], ...(version ? { server: { version } } : {}) });
    for (const j of jobs) d.addJob(j);
    log = captureLog();
    const tel = captureTelemetry();
    rig = startAutostart(d, rules, { context: tel.context, env });
    await rig.processor.ready();
    await rig.processor.settled();
    d.clearRequests();
    return tel;
  }

  it('scales the group from 0 to the rule count with one request, naming the trigger in Message and Meta', async () => {
    const tel = await setup(webRule());
    const token = d.job('web')!.JobModifyIndex;
    rig!.dispatch(hello('app.example.com'));
    await rig!.processor.settled();
    assert.deepEqual(
      d.requests().map((r) => `${r.method} ${r.path}`),
      [`POST ${SCALE}`],
      'warm state: no read, one write',
    );
    const post = d.requests()[0];
    assert.deepEqual(post.body, {
      Count: 1,
      Target: { Job: 'web', Group: 'web', Namespace: 'default' },
      Message: 'autostart: sni app.example.com from 10.1.2.3',
      Error: false,
      Meta: { 'netwatch.trigger': 'sni', 'netwatch.reason': 'sni app.example.com from 10.1.2.3', 'netwatch.rule': 'web', 'netwatch.agent.host': HOST },
      PolicyOverride: false,
      JobModifyIndex: token,
    });
    assert.equal(d.job('web')!.TaskGroups[0].Count, 1);
    const history = (await rawCall(d.url, 'GET', SCALE)).json().TaskGroups.web.Events;
    assert.deepEqual(
      [history.length, history[0].Count, history[0].PreviousCount, history[0].Message],
      [1, 1, 0, 'autostart: sni app.example.com from 10.1.2.3'],
    );
    assert.equal(tel.sum('netwatch.nomad.autostart.wakes', { 'netwatch.nomad.autostart.outcome': 'scaled', 'netwatch.nomad.job': 'web' }), 1);
    assert.equal(tel.sum('netwatch.nomad.autostart.scale_calls', { 'http.response.status_code': 200 }), 1);
    assert.equal(tel.observations('netwatch.nomad.autostart.trigger_to_scale_call.duration', { 'netwatch.nomad.autostart.rule': 'web' }), 1);
    const [record] = tel.records;
    assert.equal(record.eventName, 'netwatch.nomad.autostart.wake');
    assert.equal(record.attributes!['netwatch.nomad.eval_id'], history[0].EvalID);
    assert.deepEqual(
      [
        record.attributes!['netwatch.nomad.autostart.outcome'],
        record.attributes!['netwatch.nomad.autostart.trigger'],
        record.attributes!['client.address'],
        record.attributes!['server.port'],
        record.attributes!['netwatch.nomad.autostart.count'],
        record.attributes!['netwatch.nomad.autostart.previous_count'],
      ],
      ['scaled', 'sni', '10.1.2.3', 443, 1, 0],
    );
    assert.ok((record.attributes!['netwatch.nomad.autostart.trigger_to_scale_call.duration'] as number) > 0);
    assert.equal(log!.at('info').filter((l) => l.includes('wake default/web/web: scaled')).length, 1);
  });

  it('makes one scale call for a burst of 500 matching ClientHellos', async () => {
    const tel = await setup(webRule());
    for (let i = 0; i < 500; i++) rig!.dispatch(hello('app.example.com', `10.1.2.${i % 250}`));
    await rig!.processor.settled();
    assert.deepEqual([d.requests().length, d.count('POST', SCALE)], [1, 1]);
    assert.equal(tel.sum('netwatch.nomad.autostart.triggers', { 'netwatch.nomad.autostart.rule': 'web', 'netwatch.nomad.autostart.trigger': 'sni' }), 500);
    assert.equal(tel.sum('netwatch.nomad.autostart.wakes'), 1);
  });

  it('matches *.app.example.com below it, exact names exactly, and nothing else', async () => {
    await setup(webRule('', '{ sni: ["*.app.example.com"] }'));
    for (const name of ['app.example.com', 'xapp.example.com', 'app.example.com.evil', 'example.com']) rig!.dispatch(hello(name));
    rig!.dispatch(sniEvent({ serverName: undefined, readAtNs: 1n }));
    await rig!.processor.settled();
    assert.equal(d.requests().length, 0, 'no call for names the rule does not cover');
    rig!.dispatch(hello('eu.api.app.example.com'));
    await rig!.processor.settled();
    assert.equal(d.count('POST', SCALE), 1);
    assert.match(String((d.requests().at(-1)!.body as any).Message), /sni eu\.api\.app\.example\.com from 10\.1\.2\.3$/);
  });

  it('calls nothing for a matching name on another port, or from a client outside its cidrs', async () => {
    await setup(webRule('', '{ sni: [app.example.com], ports: [443], cidrs: [10.1.0.0/16], interface: [eth0] }'));
    rig!.dispatch(hello('app.example.com', '10.1.2.3', 8443));
    rig!.dispatch(hello('app.example.com', '192.168.1.1', 443));
    rig!.dispatch(sniEvent({ serverName: 'app.example.com', clientAddress: '10.1.2.3', serverPort: 443, interfaceName: 'eth1', readAtNs: 1n }));
    await rig!.processor.settled();
    assert.equal(d.requests().length, 0);
    rig!.dispatch(hello('app.example.com', '10.1.9.9', 443));
    await rig!.processor.settled();
    assert.equal(d.count('POST', SCALE), 1);
  });

  it('does nothing inside the cooldown; after it, finds the group up in warm state and calls nothing', async () => {
    const tel = await setup(webRule('        cooldown: 200ms\n'));
    rig!.dispatch(hello('app.example.com'));
    await rig!.processor.settled();
    rig!.dispatch(hello('app.example.com'));
    await rig!.processor.settled();
    assert.deepEqual([d.requests().length, d.count('POST', SCALE)], [1, 1], 'inside the cooldown: no call');
    await sleep(250);
    rig!.dispatch(hello('app.example.com'));
    await rig!.processor.settled();
    assert.deepEqual([d.requests().length, d.count('POST', SCALE)], [1, 1]);
    assert.equal(tel.sum('netwatch.nomad.autostart.wakes', { 'netwatch.nomad.autostart.outcome': 'already_scaled' }), 1);
    assert.equal(tel.records.length, 1, 'no log record for a check that found the group up');
  });

  it('never lowers a count someone else raised, and raises one below the rule count', async () => {
    await setup(
      `    rules:
      - { name: big, match: { sni: [big.example.com] }, job: big, group: g, count: 1, wait_for: none }
      - { name: two, match: { sni: [two.example.com] }, job: two, group: g, count: 2, wait_for: none }
`,
      [
        { ID: 'big', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'g', Count: 3 }] },
        { ID: 'two', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'g', Count: 1 }] },
      ],
    );
    rig!.dispatch(hello('big.example.com'));
    rig!.dispatch(hello('two.example.com'));
    await rig!.processor.settled();
    assert.deepEqual([d.count('GET', '/v1/job/big/scale'), d.count('POST', '/v1/job/big/scale')], [0, 0]);
    assert.equal(d.job('big')!.TaskGroups[0].Count, 3);
    assert.equal(d.count('POST', '/v1/job/two/scale'), 1);
    assert.equal(d.job('two')!.TaskGroups[0].Count, 2);
  });

  it('wakes on a SYN to a syn_to_port port, and on a connect() to a connect_to destination', async () => {
    await setup(
      `    rules:
      - { name: db, match: { syn_to_port: 5432 }, job: postgres, group: db, wait_for: none }
      - { name: cache, match: { connect_to: ["10.9.0.0/24:6379", "[fd00::7]:6379"] }, job: redis, group: cache, wait_for: none }
`,
      [
        { ID: 'postgres', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'db', Count: 0 }] },
        { ID: 'redis', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'cache', Count: 0 }] },
      ],
    );
    rig!.dispatch(sniEvent({ kind: 'syn', serverName: undefined, serverPort: 5433, clientAddress: '10.1.2.3', readAtNs: 1n }));
    rig!.dispatch(connEvent({ kind: 'connect', remoteAddress: '10.9.1.5', remotePort: 6379 }));
    rig!.dispatch(connEvent({ kind: 'accept', direction: 'inbound', localPort: 6379, remoteAddress: '10.9.0.5', remotePort: 40000 }));
    await rig!.processor.settled();
    assert.equal(d.requests().length, 0, 'another port, another network, an inbound connection: no trigger');
    rig!.dispatch(sniEvent({ kind: 'syn', serverName: undefined, serverPort: 5432, clientAddress: '10.1.2.3', readAtNs: 1n }));
    rig!.dispatch(connEvent({ kind: 'connect', remoteAddress: 'fd00::7', remotePort: 6379, networkType: 'ipv6', exe: 'redis-cli', pid: 4242 }));
    await rig!.processor.settled();
    const messages = d
      .requests()
      .filter((r) => r.method === 'POST')
      .map((r) => (r.body as any).Message)
      .sort();
    assert.deepEqual(messages, ['autostart: connect to [fd00::7]:6379 from redis-cli (pid 4242)', 'autostart: syn to port 5432 from 10.1.2.3']);
  });

  it('matches container and Nomad attributes of a local client', async () => {
    await setup(webRule('', '{ connect_to: ["*:8080"], container_runtime: [nomad], nomad_job: ["front*"] }'));
    rig!.dispatch(connEvent({ remotePort: 8080, container: { cgroupPath: '/x', runtime: 'docker', id: 'abc' } }));
    rig!.dispatch(connEvent({ remotePort: 8080, container: { cgroupPath: '/y', runtime: 'nomad' }, nomad: { allocId: 'a', task: 't', job: 'back' } }));
    await rig!.processor.settled();
    assert.equal(d.requests().length, 0);
    rig!.dispatch(connEvent({ remotePort: 8080, container: { cgroupPath: '/y', runtime: 'nomad' }, nomad: { allocId: 'a', task: 't', job: 'frontend' } }));
    await rig!.processor.settled();
    assert.equal(d.count('POST', SCALE), 1);
  });

  it('waits for running allocations with blocking queries and records the time to ready', async () => {
    const tel = await setup(webRule().replace('wait_for: none', 'wait_for: running'));
    d.setPendingDelay(150);
    rig!.dispatch(hello('app.example.com'));
    await rig!.processor.settled();
    const blocking = d.requests().filter((r) => r.method === 'GET' && r.query.index !== undefined);
    assert.ok(blocking.length >= 1 && blocking.length <= 4, `blocking queries, not polling: ${blocking.length}`);
    assert.ok(blocking.every((r) => r.query.wait !== undefined));
    assert.equal(d.allocations('web').filter((a) => a.ClientStatus === 'running').length, 1);
    const rec = tel.records[0];
    assert.equal(rec.attributes!['netwatch.nomad.autostart.ready'], true);
    assert.ok((rec.attributes!['netwatch.nomad.autostart.trigger_to_ready.duration'] as number) >= 0.15);
    assert.equal(tel.observations('netwatch.nomad.autostart.trigger_to_ready.duration'), 1);
  });

  it('waits for healthy allocations, and reports a group not ready after wait_timeout', async () => {
    const tel = await setup(webRule().replace('wait_for: none', 'wait_for: healthy\n        wait_timeout: 150ms'));
    d.setPendingDelay(2000);
    const t0 = Date.now();
    rig!.dispatch(hello('app.example.com'));
    await rig!.processor.settled();
    assert.ok(Date.now() - t0 >= 140 && Date.now() - t0 < 1500);
    assert.equal(tel.records[0].attributes!['netwatch.nomad.autostart.ready'], false);
    assert.equal(tel.observations('netwatch.nomad.autostart.trigger_to_ready.duration'), 0);
    assert.equal(log!.at('warn').filter((l) => l.includes('is not healthy with 1 allocation after 150ms')).length, 1);
  });

  it('starts a stopped job when the rule allows it: re-registered with Stop=false, the start recorded in the scaling history', async () => {
    const tel = await setup(webRule('        start_stopped: true\n        count: 2\n'), [
      {
        ID: 'web',
        Update: NO_DEPLOYMENTS,
        Stop: true,
        TaskGroups: [
          { Name: 'web', Count: 1 },
          { Name: 'other', Count: 1 },
        ],
      },
    ]);
    rig!.dispatch(hello('app.example.com'));
    await rig!.processor.settled();
    assert.deepEqual([d.count('GET', SCALE), d.count('GET', '/v1/job/web'), d.count('PUT', '/v1/jobs'), d.count('POST', SCALE)], [0, 1, 1, 1]);
    const put = d.requests().find((r) => r.method === 'PUT')!.body as any;
    assert.equal(put.Job.Stop, false);
    assert.equal(put.EnforceIndex, true);
    assert.deepEqual(
      put.Job.TaskGroups.map((g: any) => [g.Name, g.Count]),
      [
        ['web', 2],
        ['other', 1],
      ],
    );
    const job = d.job('web')!;
    assert.deepEqual([job.Stop, job.TaskGroups[0].Count], [false, 2]);
    const event = d.requests().find((r) => r.method === 'POST')!.body as any;
    assert.deepEqual(
      [event.Count, event.Message, event.Meta['netwatch.count']],
      [null, 'autostart: started the stopped job: sni app.example.com from 10.1.2.3', 2],
    );
    assert.equal(tel.sum('netwatch.nomad.autostart.wakes', { 'netwatch.nomad.autostart.outcome': 'started' }), 1);
    await until(() => d.allocations('web').filter((a) => a.ClientStatus === 'running').length === 3, 'the started job running');
  });

  it('restores the scaling policies Nomad disabled when the job was stopped, and leaves one its owner turned off', async () => {
    await setup(webRule('        start_stopped: true\n'), [
      {
        ID: 'web',
        Update: NO_DEPLOYMENTS,
        TaskGroups: [
          { Name: 'web', Count: 1, Scaling: { Min: 0, Max: 3 } },
          { Name: 'off', Count: 1, Scaling: { Min: 0, Max: 3, Enabled: false } },
        ],
      },
    ]);
    assert.equal((await rawCall(d.url, 'DELETE', '/v1/job/web')).status, 200);
    assert.deepEqual(
      d.job('web')!.TaskGroups.map((g) => g.Scaling!.Enabled),
      [false, false],
      'nomad/fsm.go disables them on stop',
    );
    await untilHeard(rig!.processor, 'web', (j) => j.stopped);
    rig!.dispatch(hello('app.example.com'));
    await rig!.processor.settled();
    const job = d.job('web')!;
    assert.equal(job.Stop, false);
    assert.deepEqual(
      job.TaskGroups.map((g) => [g.Name, g.Scaling!.Enabled]),
      [
        ['web', true],
        ['off', false],
      ],
    );
  });

  it('leaves a stopped job alone when the rule does not allow starting it, and says so once', async () => {
    const tel = await setup(webRule('        cooldown: 1ms\n'), [{ ID: 'web', Update: NO_DEPLOYMENTS, Stop: true, TaskGroups: [{ Name: 'web', Count: 1 }] }]);
    for (let i = 0; i < 2; i++) {
      rig!.dispatch(hello('app.example.com'));
      await rig!.processor.settled();
      await sleep(5);
    }
    assert.deepEqual(d.requests(), [], 'warm state knows it is stopped');
    assert.equal(d.job('web')!.Stop, true);
    assert.equal(tel.sum('netwatch.nomad.autostart.wakes', { 'netwatch.nomad.autostart.outcome': 'job_stopped' }), 2);
    assert.equal(log!.lines.filter((l) => l.includes('is stopped; rule web leaves stopped jobs alone (start_stopped: true would start it')).length, 1);
  });

  it('in dry_run writes nothing, and logs what it would do', async () => {
    const tel = await setup(webRule().replace('    agent_host', '    dry_run: true\n    agent_host'));
    rig!.dispatch(hello('app.example.com'));
    await rig!.processor.settled();
    assert.deepEqual(d.requests(), []);
    assert.equal(d.job('web')!.TaskGroups[0].Count, 0);
    assert.equal(log!.lines.filter((l) => l.includes('dry run: would scale default/web/web from 0 to 1')).length, 1);
    assert.equal(tel.records[0].attributes!['netwatch.nomad.autostart.dry_run'], true);
  });

  it('addresses the rule namespace, defaulting to NOMAD_NAMESPACE', async () => {
    await setup(
      `    rules:
      - { name: a, match: { sni: [a.example.com] }, job: web, group: web, wait_for: none }
      - { name: b, match: { sni: [b.example.com] }, job: web, group: web, namespace: default, wait_for: none }
`,
      [
        { ID: 'web', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'web', Count: 0 }] },
        { ID: 'web', Update: NO_DEPLOYMENTS, Namespace: 'prod', TaskGroups: [{ Name: 'web', Count: 0 }] },
      ],
      { NOMAD_NAMESPACE: 'prod' },
    );
    rig!.dispatch(hello('a.example.com'));
    rig!.dispatch(hello('b.example.com'));
    await rig!.processor.settled();
    const posts = d
      .requests()
      .filter((r) => r.method === 'POST')
      .map((r) => [r.query.namespace, (r.body as any).Target.Namespace])
      .sort();
    assert.deepEqual(posts, [
      ['default', 'default'],
      ['prod', 'prod'],
    ]);
    assert.deepEqual([d.job('web', 'prod')!.TaskGroups[0].Count, d.job('web')!.TaskGroups[0].Count], [1, 1]);
  });

  it('with servers older than 1.8.2 (no check-and-set), reads the scale status, then writes without a token', async () => {
    await setup(webRule(), undefined, undefined, '1.8.1');
    assert.deepEqual(rig!.processor.writeMode, { kind: 'read-then-write', why: 'older', version: '1.8.1' });
    rig!.dispatch(hello('app.example.com'));
    await rig!.processor.settled();
    assert.deepEqual(
      d.requests().map((r) => `${r.method} ${r.path}`),
      [`GET ${SCALE}`, `POST ${SCALE}`],
    );
    assert.equal((d.requests()[1].body as any).JobModifyIndex, undefined);
    assert.equal(d.job('web')!.TaskGroups[0].Count, 1);
    assert.equal(log!.at('info').filter((l) => l.includes('Nomad 1.8.1 has no check-and-set on scale requests (from 1.8.2)')).length, 1);
  });

  it('reports a group the job does not have, once', async () => {
    const tel = await setup(webRule('        cooldown: 1ms\n'), [{ ID: 'web', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'api', Count: 0 }] }]);
    for (let i = 0; i < 2; i++) {
      rig!.dispatch(hello('app.example.com'));
      await rig!.processor.settled();
      await sleep(5);
    }
    assert.equal(d.count('POST', SCALE), 0);
    assert.equal(tel.sum('netwatch.nomad.autostart.wakes', { 'netwatch.nomad.autostart.outcome': 'group_not_found' }), 2);
    assert.deepEqual(
      log!
        .at('warn')
        .filter((l) => l.includes('has no task group'))
        .map((l) => l.slice(l.indexOf('job '))),
      ['job "web" in namespace "default" has no task group "web" (it has "api"); fix group in rule web'],
    );
  });
});
