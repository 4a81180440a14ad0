// A nomad_autostart processor as the agent builds it (agent.yaml through the real loader, the real
// pipeline runner) pointed at a Nomad API double, with captured agent log lines.
import { parseConfig } from '../../src/config';
import type { NomadAutostartProcessorConfig } from '../../src/config/types';
import { setLogSink, type LogLevel } from '../../src/log';
import type { PipelineEvent } from '../../src/pipeline/event';
import type { ProcessorContext } from '../../src/pipeline/processor-context';
import { NomadAutostartProcessor } from '../../src/pipeline/processors/nomad_autostart';
import { buildPipelines, type PipelineRunner } from '../../src/pipeline/runner';
import type { Attributes } from '@opentelemetry/api';
import type { LogRecord } from '@opentelemetry/api-logs';
import type { HistogramTable, SumTable } from '../../src/pipeline/aggregate';
import type { ProcessorTelemetry } from '../../src/pipeline/processor-telemetry';
import type { NomadDouble } from './nomad';
import type { WarmJob } from '../../src/pipeline/processors/nomad_autostart/warm-state';

export interface AutostartRig {
  runner: PipelineRunner;
  processor: NomadAutostartProcessor;
  config: NomadAutostartProcessorConfig;
  /** Through the pipeline runner, from the receiver of the event's source (sni or connections). */
  dispatch(ev: PipelineEvent): void;
  stop(): Promise<void>;
}

/** `body` is the processor's settings (YAML, indented by 4); `address` defaults to the double's. */
export function autostartYaml(body: string, id = 'nomad_autostart'): string {
  return `
receivers:
  connections:
  sni:
processors:
  ${id}:
${body}
exporters:
  debug:
service:
  pipelines:
    metrics:
      receivers: [connections, sni]
      processors: [${id}]
      exporters: [debug]
    logs:
      receivers: [connections, sni]
      processors: [${id}]
      exporters: [debug]
`;
}

export function startAutostart(
  d: NomadDouble | undefined,
  body: string,
  opts: { env?: Record<string, string>; context?: (id: string) => ProcessorContext; id?: string } = {},
): AutostartRig {
  const id = opts.id ?? 'nomad_autostart';
  const address = d && !/^\s*address:/m.test(body) ? `    address: ${d.url}\n` : '';
  const cfg = parseConfig(autostartYaml(address + body, id), 'autostart.yaml', opts.env ?? {});
  const runner = buildPipelines(cfg, { exporterSinks: () => ({ consume: () => undefined }), processorContext: opts.context });
  const processor = runner.processors.get(id) as NomadAutostartProcessor;
  return {
    runner,
    processor,
    config: cfg.processors[id] as NomadAutostartProcessorConfig,
    dispatch: (ev) => runner.dispatch(ev.source, ev),
    stop: () => runner.shutdown(),
  };
}

export interface CapturedLog {
  lines: string[];
  at(level: LogLevel): string[];
  restore(): void;
}

/** Captures the agent's log lines (src/log.ts) until restore(). */
export function captureLog(): CapturedLog {
  const lines: { line: string; level: LogLevel }[] = [];
  setLogSink((line, level) => lines.push({ line, level }));
  return {
    get lines() {
      return lines.map((l) => l.line);
    },
    at: (level) => lines.filter((l) => l.level === level).map((l) => l.line),
    restore: () => setLogSink((line) => process.stderr.write(line + '\n')),
  };
}

/** Polls `pred` every 5 ms until it holds, or fails naming `what`. */
export async function until(pred: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until the processor's warm state has heard what the test just did to a job through the
 * double (the event stream delivers it within milliseconds; a decision made before that is made
 * on what the agent knew).
 */
export async function untilHeard(
  processor: NomadAutostartProcessor,
  job: string,
  pred: (j: WarmJob & { kind: 'present' }) => boolean,
  namespace = 'default',
): Promise<void> {
  await until(() => {
    const w = processor.warmJob(namespace, job);
    return w.current && w.job?.kind === 'present' && pred(w.job);
  }, `the agent hearing of the change to job ${job}`);
}

/** A ProcessorTelemetry that keeps what the processor hands over, for assertions. */
export interface CapturedTelemetry {
  context: (id: string) => ProcessorContext;
  records: LogRecord[];
  /** Sum of a counter's series whose attributes include `filter`. */
  sum(metric: string, filter?: Attributes): number;
  /** Number of values recorded in a histogram's series whose attributes include `filter`. */
  observations(metric: string, filter?: Attributes): number;
  /** Every value series of a counter, for exact checks. */
  series(metric: string): Attributes[];
}

const includes = (a: Attributes, filter: Attributes): boolean => Object.entries(filter).every(([k, v]) => a[k] === v);

export function captureTelemetry(previous?: () => ProcessorContext['previous']): CapturedTelemetry {
  const sums = new Map<string, SumTable>();
  const histograms = new Map<string, HistogramTable>();
  const records: LogRecord[] = [];
  const telemetry: ProcessorTelemetry = {
    cardinalityLimit: 2000,
    onOverflow: () => undefined,
    exportSums: (m, t) => void sums.set(m.name, t),
    exportHistogram: (m, t) => void histograms.set(m.name, t),
    emit: (r) => void records.push(r),
  };
  return {
    context: () => ({ telemetry, previous: previous?.() }),
    records,
    sum: (metric, filter = {}) => [...(sums.get(metric)?.series.values() ?? [])].filter((s) => includes(s.attrs, filter)).reduce((n, s) => n + s.value, 0),
    observations: (metric, filter = {}) =>
      [...(histograms.get(metric)?.series.values() ?? [])].filter((s) => includes(s.attrs, filter)).reduce((n, s) => n + s.count, 0),
    series: (metric) => [...(sums.get(metric)?.series.values() ?? [])].map((s) => ({ ...s.attrs, value: s.value })),
  };
}
