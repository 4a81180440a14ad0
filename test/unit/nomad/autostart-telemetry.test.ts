// nomad_autostart's telemetry through the real SDK and an OTLP sink: metrics reach the metrics
// pipelines that list the processor, log records its logs pipelines, with catalogue names.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../../src/config';
import { buildPipelines, type PipelineRunner } from '../../../src/pipeline/runner';
import { createTelemetry, type Telemetry } from '../../../src/telemetry/sdk';
import { captureLog, type CapturedLog } from '../../helpers/autostart';
import { NO_DEPLOYMENTS, NomadDouble } from '../../helpers/nomad';
import { OtlpSink } from '../../helpers/otlp-sink';
import type { NomadAutostartProcessor } from '../../../src/pipeline/processors/nomad_autostart';
import { sniEvent } from '../pipeline/events';

const TOKEN = 'c0ffee00-TELEMETRY-TOKEN-000000000000';

describe('nomad_autostart telemetry over OTLP', () => {
  let d: NomadDouble;
  let sink: OtlpSink;
  let telemetry: Telemetry;
  let runner: PipelineRunner;
  let log: CapturedLog;

  before(async () => {
    d = await NomadDouble.start({ pendingDelayMs: 20 });
    d.addJob({ ID: 'web', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'web', Count: 0 }] });
    d.addJob({ ID: 'ghost-free', Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'g', Count: 0 }] });
    sink = await OtlpSink.start();
    log = captureLog();
    const cfg = parseConfig(
      `
receivers:
  sni:
processors:
  nomad_autostart/edge:
    address: ${d.url}
    token: ${TOKEN}
    agent_host: edge-1
    rules:
      - { name: web, match: { sni: [app.example.com] }, job: web, group: web }
      - { name: ghost, match: { sni: [ghost.example.com] }, job: ghost, group: g, wait_for: none }
exporters:
  otlp:
    endpoint: http://${sink.grpcEndpoint}
service:
  pipelines:
    metrics:
      receivers: [sni]
      processors: [nomad_autostart/edge]
      exporters: [otlp]
    logs:
      receivers: [sni]
      processors: [nomad_autostart/edge]
      exporters: [otlp]
  telemetry:
    metrics:
      export_interval: 200ms
`,
      'telemetry.yaml',
      {},
    );
    telemetry = createTelemetry(cfg);
    runner = buildPipelines(cfg, { exporterSinks: (id) => telemetry.sinkFor(id), processorContext: (id) => ({ telemetry: telemetry.forProcessor(id) }) });
    const p = runner.processors.get('nomad_autostart/edge') as NomadAutostartProcessor;
    for (let i = 0; i < 3; i++)
      runner.dispatch('sni', sniEvent({ serverName: 'app.example.com', clientAddress: '10.1.2.3', readAtNs: process.hrtime.bigint() }));
    runner.dispatch('sni', sniEvent({ serverName: 'ghost.example.com', clientAddress: '10.1.2.4', readAtNs: process.hrtime.bigint() }));
    await p.settled();
    await telemetry.forceFlush();
    await sink.waitFor(() => sink.logs({ eventName: 'netwatch.nomad.autostart.wake' }).length === 2 && sink.sumOf('netwatch.nomad.autostart.wakes') === 2);
  });
  after(async () => {
    log.restore();
    await runner.shutdown();
    await telemetry.shutdown();
    await sink.stop();
    await d.stop();
  });

  it('counts triggers by rule and trigger kind', () => {
    assert.equal(
      sink.sumOf('netwatch.nomad.autostart.triggers', {
        'netwatch.processor': 'nomad_autostart/edge',
        'netwatch.nomad.autostart.rule': 'web',
        'netwatch.nomad.autostart.trigger': 'sni',
      }),
      3,
    );
    assert.equal(sink.sumOf('netwatch.nomad.autostart.triggers', { 'netwatch.nomad.autostart.rule': 'ghost' }), 1);
  });

  it('counts wakes by outcome and scale calls by HTTP status', () => {
    assert.equal(
      sink.sumOf('netwatch.nomad.autostart.wakes', {
        'netwatch.nomad.autostart.outcome': 'scaled',
        'netwatch.nomad.job': 'web',
        'netwatch.nomad.group': 'web',
        'netwatch.nomad.namespace': 'default',
      }),
      1,
    );
    assert.equal(sink.sumOf('netwatch.nomad.autostart.wakes', { 'netwatch.nomad.autostart.outcome': 'job_not_found', 'netwatch.nomad.job': 'ghost' }), 1);
    assert.equal(sink.sumOf('netwatch.nomad.autostart.scale_calls', { 'http.response.status_code': 200, 'netwatch.nomad.job': 'web' }), 1);
    assert.equal(sink.sumOf('netwatch.nomad.autostart.scale_calls', { 'netwatch.nomad.job': 'ghost' }), 0, 'the read found no job: no scale call');
  });

  it('records the time to the scale call and to ready as histograms in seconds', () => {
    const toCall = sink.histogram('netwatch.nomad.autostart.trigger_to_scale_call.duration', { 'netwatch.nomad.autostart.rule': 'web' });
    const toReady = sink.histogram('netwatch.nomad.autostart.trigger_to_ready.duration', { 'netwatch.nomad.autostart.rule': 'web' });
    assert.deepEqual([toCall?.count, toCall?.unit, toReady?.count, toReady?.unit], [1, 's', 1, 's']);
    assert.ok(toReady!.sum >= 0.02 && toReady!.sum > toCall!.sum, 'ready comes after the call, past the pending delay');
  });

  it('sends one log record per wake, with eventName, the trigger, the eval id and the timings', () => {
    const [web] = sink.logs({ eventName: 'netwatch.nomad.autostart.wake' }).filter((r) => r.attributes['netwatch.nomad.autostart.rule'] === 'web');
    const a = web.attributes;
    assert.deepEqual(
      [
        a['netwatch.nomad.autostart.outcome'],
        a['netwatch.nomad.autostart.reason'],
        a['netwatch.nomad.autostart.trigger'],
        a['netwatch.nomad.job'],
        a['netwatch.nomad.autostart.ready'],
        a['netwatch.nomad.autostart.dry_run'],
      ],
      ['scaled', 'sni app.example.com from 10.1.2.3', 'sni', 'web', true, false],
    );
    assert.match(String(a['netwatch.nomad.eval_id']), /^[0-9a-f-]{36}$/);
    assert.ok(Number(a['netwatch.nomad.autostart.trigger_to_scale_call.duration']) > 0 && Number(a['netwatch.nomad.autostart.trigger_to_ready.duration']) > 0);
    const [ghost] = sink.logs({ eventName: 'netwatch.nomad.autostart.wake' }).filter((r) => r.attributes['netwatch.nomad.autostart.rule'] === 'ghost');
    assert.deepEqual(
      [ghost.severityText, ghost.attributes['netwatch.nomad.autostart.outcome'], ghost.attributes['http.response.status_code']],
      ['WARN', 'job_not_found', 404],
    );
  });

  it('never exports the token', () => {
    const everything = JSON.stringify([sink.requests.map((r) => r.body ?? ''), sink.logs(), log.lines]);
    assert.ok(!everything.includes(TOKEN));
  });
});
