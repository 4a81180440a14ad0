import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../../src/config';
import type { ProcessorConfig } from '../../../src/config/types';
import type { EventSink, PipelineEvent, Processor } from '../../../src/pipeline/event';
import { buildPipelines } from '../../../src/pipeline/runner';
import { connEvent } from './events';

const cfg = parseConfig(
  `
receivers:
  connections:
  connections/other:
processors:
  filter/no-loopback:
    exclude: [{cidrs: [127.0.0.0/8]}]
  filter/https-only:
    include: [{ports: [443]}]
exporters:
  debug:
service:
  pipelines:
    metrics:
      receivers: [connections]
      processors: [filter/no-loopback]
      exporters: [debug]
    logs:
      receivers: [connections, connections/other]
      processors: [filter/no-loopback, filter/https-only]
      exporters: [debug]
`,
  'runner.yaml',
  {},
);

class RecordingSink implements EventSink {
  readonly seen: PipelineEvent[] = [];
  consume(ev: PipelineEvent): void {
    this.seen.push(ev);
  }
}

function setup() {
  const sinks = new Map<string, RecordingSink>();
  const calls: string[] = [];
  const created: string[] = [];
  const runner = buildPipelines(cfg, {
    exporterSinks: (id) => {
      const s = new RecordingSink();
      sinks.set(id, s);
      return s;
    },
    createProcessor: (pcfg: ProcessorConfig): Processor => {
      created.push(pcfg.id);
      const real = buildPipelines(cfg, { exporterSinks: () => ({ consume: () => undefined }) }).processors.get(pcfg.id)!;
      return { id: pcfg.id, process: (ev) => (calls.push(pcfg.id), real.process(ev)) };
    },
  });
  return { runner, sinks, calls, created };
}

test('an event from a receiver in two pipelines reaches both sinks', () => {
  const { runner, sinks } = setup();
  const ev = connEvent({ remotePort: 443 });
  runner.dispatch('connections', ev);
  assert.deepEqual(sinks.get('metrics')!.seen, [ev]);
  assert.deepEqual(sinks.get('logs')!.seen, [ev]);
});

test("a pipeline's processors run in order and a drop stops the event in that pipeline only", () => {
  const { runner, sinks, calls } = setup();
  runner.dispatch('connections', connEvent({ remotePort: 80 }));
  assert.equal(sinks.get('metrics')!.seen.length, 1);
  assert.equal(sinks.get('logs')!.seen.length, 0, 'filter/https-only dropped it');
  assert.deepEqual(calls, ['filter/no-loopback', 'filter/https-only']);
});

test('a drop by the first processor skips the rest of the pipeline', () => {
  const { runner, sinks, calls } = setup();
  runner.dispatch('connections', connEvent({ remoteAddress: '127.0.0.1', remotePort: 443 }));
  assert.equal(sinks.get('metrics')!.seen.length + sinks.get('logs')!.seen.length, 0);
  assert.deepEqual(calls, ['filter/no-loopback']);
});

test('a processor named by two pipelines is one instance and sees each event once', () => {
  const { runner, calls, created } = setup();
  assert.deepEqual(created, ['filter/no-loopback', 'filter/https-only']);
  assert.equal(runner.processors.size, 2);
  runner.dispatch('connections', connEvent({ remotePort: 443 }));
  runner.dispatch('connections', connEvent({ remotePort: 443 }));
  assert.equal(calls.filter((c) => c === 'filter/no-loopback').length, 2);
});

test('a receiver only feeds the pipelines that list it', () => {
  const { runner, sinks } = setup();
  runner.dispatch('connections/other', connEvent({ remotePort: 443 }));
  assert.equal(sinks.get('metrics')!.seen.length, 0);
  assert.equal(sinks.get('logs')!.seen.length, 1);
  runner.dispatch('not-a-receiver', connEvent());
  assert.deepEqual(runner.receivers, ['connections', 'connections/other']);
});

test('shutdown reaches every processor once', async () => {
  let stopped = 0;
  const runner = buildPipelines(cfg, {
    exporterSinks: () => new RecordingSink(),
    createProcessor: (p) => ({ id: p.id, process: () => true, shutdown: async () => void stopped++ }),
  });
  await runner.shutdown();
  assert.equal(stopped, 2);
});

test('the default processor registry builds filters from config', () => {
  const sinks = new Map<string, RecordingSink>();
  const runner = buildPipelines(cfg, { exporterSinks: (id) => (sinks.set(id, new RecordingSink()), sinks.get(id)!) });
  runner.dispatch('connections', connEvent({ remoteAddress: '127.0.0.9' }));
  runner.dispatch('connections', connEvent({ remoteAddress: '10.0.0.9', remotePort: 443 }));
  assert.equal(sinks.get('metrics')!.seen.length, 1);
  assert.equal(sinks.get('logs')!.seen.length, 1);
});
