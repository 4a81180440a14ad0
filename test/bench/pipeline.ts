// Part 2, the pipeline: decoded connection events through enrichment, the pipelines, the metric
// tables and log records, exported over OTLP/gRPC to a sink in another process. Each run is a
// fresh worker process; counts in the sink are checked against what was fed.
import { fork } from 'node:child_process';
import { join } from 'node:path';
import type { PipelineVariant, WorkerRequest, WorkerResult } from './pipeline-worker';
import { SinkProcess } from './sink';
import { Samples } from './stats';

export interface PipelineOptions {
  runs: number;
  durationMs: number;
  ringBytes: number;
  variants: readonly PipelineVariant[];
}

function runWorker(req: WorkerRequest): Promise<WorkerResult> {
  // The agent's own warnings (the log-record cap it is run into on purpose) would only clutter the output.
  const child = fork(join(__dirname, 'pipeline-worker.js'), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, NETWATCH_LOG_LEVEL: 'error' },
  });
  return new Promise((resolve, reject) => {
    child.once('message', (m: { ok: boolean; result?: WorkerResult; error?: string }) => (m.ok ? resolve(m.result!) : reject(new Error(m.error))));
    child.once('exit', (code) => code !== 0 && reject(new Error(`pipeline worker exited with ${code}`)));
    child.send(req);
  });
}

export async function benchPipeline(o: PipelineOptions, progress: (line: string) => void): Promise<Samples> {
  const s = new Samples();
  for (let run = 0; run < o.runs; run++) {
    // Variants interleaved, the order rotating per run.
    const order = o.variants.map((_, i) => o.variants[(i + run) % o.variants.length]);
    for (const variant of order) {
      const sink = await SinkProcess.start();
      try {
        const r = await runWorker({ variant, durationMs: o.durationMs, ringBytes: o.ringBytes, grpcEndpoint: sink.grpcEndpoint });
        if (r.stages) {
          s.add('stages.decode_ns', r.stages.decode);
          s.add('stages.enrich_ns', r.stages.enrich - r.stages.decode);
          s.add('stages.metrics_ns', r.stages.metrics - r.stages.enrich);
          s.add('stages.total_ns', r.stages.metrics);
          progress(
            `pipeline run ${run + 1}/${o.runs} stages: decode ${r.stages.decode.toFixed(0)} ns, +enrich ${(r.stages.enrich - r.stages.decode).toFixed(0)} ns, +metrics ${(r.stages.metrics - r.stages.enrich).toFixed(0)} ns CPU per event`,
          );
          continue;
        }
        const perSec = (r.events / r.wallNs) * 1e9;
        s.add(`${variant}.events_per_s`, perSec);
        s.add(`${variant}.cpu_ns_per_event`, r.cpuNs / r.events);
        s.add(`${variant}.peak_rss_mb`, r.peakRssBytes / 2 ** 20);
        let note = '';
        if (variant !== 'logs-uncapped') {
          // Exact, from the counter rows as in production: every connection opened at both ends
          // (as many as the connect and accept records fed), every transition the kernel counted
          // (the unit test holds the corpus's collection to its records).
          const opened = await sink.sumOf('netwatch.connection.opened');
          const transitions = await sink.sumOf('netwatch.connection.state_transitions');
          const wantOpened = r.counted.opened;
          const wantTransitions = r.counted.transitions;
          s.add(`${variant}.missing_in_metrics`, wantOpened - opened + (wantTransitions - transitions));
          if (opened !== wantOpened || transitions !== wantTransitions)
            note = ` — sink has opened ${opened} of ${wantOpened}, transitions ${transitions} of ${wantTransitions}`;
        }
        if (variant !== 'metrics') {
          const records = await sink.logCount();
          s.add(`${variant}.log_records_per_s`, (records / r.wallNs) * 1e9);
        }
        progress(
          `pipeline run ${run + 1}/${o.runs} ${variant}: ${(perSec / 1e6).toFixed(2)} M events/s, ${(r.cpuNs / r.events).toFixed(0)} ns CPU/event, peak RSS ${(r.peakRssBytes / 2 ** 20).toFixed(0)} MiB${note}`,
        );
      } finally {
        await sink.stop();
      }
    }
  }
  return s;
}
