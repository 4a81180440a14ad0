// One run of the pipeline benchmark, in a process of its own (a clean heap and an honest RSS):
// conn probe records → decoder → enricher → pipelines → log records (and the query window's
// feed), and after each replay of the records one collection of the kernel's counters → enricher →
// metric tables, all → OTLP/gRPC to the sink process; records one reader-sized batch per
// event-loop turn as the ring reader hands them over. Started with fork(); sends one message with
// its figures and exits.
import { readFileSync, statSync } from 'node:fs';
import { parseConfig } from '../../src/config';
import { Enricher } from '../../src/enrich/enricher';
import { emptyEnrichment } from '../../src/enrich/types';
import { nowBootNs } from '../../src/enrich/clock';
import { enrichConnEvent } from '../../src/receivers/connections/pipeline-event';
import { dispatchCollection } from '../../src/receivers/connections/count-events';
import { cgroup2Root } from '../../src/kernel/mounts';
import { buildPipelines } from '../../src/pipeline/runner';
import type { RecordBatch } from '../../src/kernel/ringbuf';
import { ConnDecoder } from '../../src/receivers/connections/decoder';
import type { ConnEvent } from '../../src/receivers/connections/event';
import { createTelemetry } from '../../src/telemetry/sdk';
import { buildCorpus, corpusBatches, type Owner } from './corpus';
import { processMemory, selfCpuNs } from './cpu';

/**
 * metrics: the metrics pipeline alone; metrics+logs: the default configuration (log records capped at
 * 1000/s); logs-uncapped: a log record for every event; stages: where the time goes — CPU per event
 * of decoding alone, then with enrichment, then through the metrics pipeline (no export in between).
 */
export type PipelineVariant = 'metrics' | 'metrics+logs' | 'logs-uncapped' | 'stages';
export const PIPELINE_VARIANTS: readonly PipelineVariant[] = ['metrics', 'metrics+logs', 'logs-uncapped', 'stages'];

export interface WorkerRequest {
  variant: PipelineVariant;
  durationMs: number;
  ringBytes: number;
  grpcEndpoint: string;
}

export interface WorkerResult {
  events: number;
  wallNs: number;
  cpuNs: number;
  peakRssBytes: number;
  heapUsedBytes: number;
  /** Records fed, by kind. */
  kinds: Record<string, number>;
  /** What the kernel counted for the connections fed: what the metrics must add up to. */
  counted: { opened: number; transitions: number };
  /** stages only: CPU ns per event of decode; decode + enrich; decode + enrich + metrics. */
  stages?: { decode: number; enrich: number; metrics: number };
}

// The reader hands over at most this many records per event-loop turn (RingBufferReader's default).
const MAX_BATCH = 8192;

function yamlFor(r: WorkerRequest): string {
  const metrics = r.variant !== 'logs-uncapped';
  const logs = r.variant === 'metrics+logs' || r.variant === 'logs-uncapped';
  return `receivers:
  connections:
    seed_existing: false
    ring_buffer_size: ${r.ringBytes}
${r.variant === 'logs-uncapped' ? '    logs:\n      max_per_second: 0\n' : ''}exporters:
  otlp:
    endpoint: http://${r.grpcEndpoint}
service:
  pipelines:
${metrics ? '    metrics:\n      receivers: [connections]\n      exporters: [otlp]\n' : ''}${logs ? '    logs:\n      receivers: [connections]\n      exporters: [otlp]\n' : ''}  telemetry:
    metrics:
      export_interval: 1s
`;
}

/** Real owners the enricher can resolve: this process, its parent, and init, in this cgroup. */
function owners(): Owner[] {
  let cgroupId = 0;
  try {
    const rel = /^0::(.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1] ?? '/';
    cgroupId = statSync(`${cgroup2Root()}${rel}`).ino;
  } catch {
    /* no cgroup2: events carry no cgroup */
  }
  return [
    { pid: process.pid, exe: 'node', cgroupId },
    { pid: process.ppid, exe: 'node', cgroupId },
    { pid: 1, exe: 'init', cgroupId },
  ];
}

export async function runPipelineWorker(r: WorkerRequest): Promise<WorkerResult> {
  const cfg = parseConfig(yamlFor(r), 'bench.yaml', {});
  const telemetry = createTelemetry(cfg, { shutdownTimeoutMs: 30_000 });
  const runner = buildPipelines(cfg, { exporterSinks: (id) => telemetry.sinkFor(id) });
  const enricher = new Enricher();
  const decoder = new ConnDecoder();
  const netns = statSync('/proc/self/ns/net').ino;
  const corpus = buildCorpus({ ringBytes: r.ringBytes, owners: owners(), serverPorts: 16, netns, bootNs: Math.round(performance.now() * 1e6) });
  const batches = corpusBatches(corpus, MAX_BATCH);
  const scratch = emptyEnrichment(); // as the connections receiver does: one allocation per event
  const emit = (ev: ConnEvent): void => runner.dispatch('connections', enrichConnEvent(enricher, ev, 'connections', scratch));
  // As the receiver does at each interval; one per replay, once every connection fed has closed.
  const collect = (): void => dispatchCollection(corpus.collection, enricher, 'connections', nowBootNs(), (ev) => runner.dispatch('connections', ev));
  if (r.variant === 'stages') {
    const stages = {
      decode: stageCost(decoder, batches, () => {}, r.durationMs / 3),
      enrich: stageCost(decoder, batches, (ev) => void enrichConnEvent(enricher, ev, 'connections', scratch), r.durationMs / 3),
      metrics: stageCost(decoder, batches, emit, r.durationMs / 3, collect),
    };
    await telemetry.shutdown();
    enricher.close();
    return {
      events: 0,
      wallNs: 0,
      cpuNs: 0,
      peakRssBytes: processMemory('self').peak,
      heapUsedBytes: 0,
      kinds: {},
      counted: { opened: 0, transitions: 0 },
      stages,
    };
  }

  let events = 0,
    replays = 0,
    next = 0;
  const cpu0 = selfCpuNs();
  const t0 = process.hrtime.bigint();
  const end = t0 + BigInt(r.durationMs) * 1_000_000n;
  // Whole replays of the corpus only, so that every connection opened is also closed.
  await new Promise<void>((resolve) => {
    const turn = (): void => {
      const b = batches[next];
      decoder.decodeBatch(b, emit);
      events += b.count;
      next++;
      if (next === batches.length) {
        collect();
        next = 0;
        replays++;
        if (process.hrtime.bigint() >= end) return resolve();
      }
      setImmediate(turn);
    };
    setImmediate(turn);
  });
  const wallNs = Number(process.hrtime.bigint() - t0);
  const cpuNs = selfCpuNs() - cpu0;
  const peakRssBytes = processMemory('self').peak;
  const heapUsedBytes = process.memoryUsage().heapUsed;
  await telemetry.forceFlush();
  await telemetry.shutdown();
  enricher.close();
  const kinds: Record<string, number> = {};
  for (const [k, n] of Object.entries(corpus.kinds)) kinds[k] = n * replays;
  const counted = { opened: corpus.counted.opened * replays, transitions: corpus.counted.transitions * replays };
  if (decoder.decodeErrors) throw new Error(`the corpus did not decode: ${JSON.stringify(decoder.errors)}`);
  return { events, wallNs, cpuNs, peakRssBytes, heapUsedBytes, kinds, counted };
}

/**
 * CPU ns per record of decoding every batch into `emit`, then `collect` once per pass (the counter
 * rows that metrics come from, paid for by the records of the pass), for about `ms` (after a warm-up pass).
 */
function stageCost(decoder: ConnDecoder, batches: RecordBatch[], emit: (ev: ConnEvent) => void, ms: number, collect = (): void => {}): number {
  for (const b of batches) decoder.decodeBatch(b, emit);
  collect();
  let events = 0;
  const c0 = selfCpuNs();
  const end = process.hrtime.bigint() + BigInt(Math.round(ms * 1e6));
  do {
    for (const b of batches) {
      decoder.decodeBatch(b, emit);
      events += b.count;
    }
    collect();
  } while (process.hrtime.bigint() < end);
  return (selfCpuNs() - c0) / events;
}

if (require.main === module) {
  process.once('message', (r: WorkerRequest) => {
    runPipelineWorker(r).then(
      (res) => process.send!({ ok: true, result: res }, () => process.exit(0)),
      (e: Error) => process.send!({ ok: false, error: e.stack ?? String(e) }, () => process.exit(1)),
    );
  });
}
