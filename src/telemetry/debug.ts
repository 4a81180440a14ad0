// The `debug` exporter: telemetry on stdout. `basic` prints one summary line per export — what a
// new user sees with no collector running; `normal` one line per data point / log record; `detailed` JSON.
import { type ExportResult, ExportResultCode, hrTimeToMilliseconds } from '@opentelemetry/core';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import {
  AggregationTemporality,
  DataPointType,
  InstrumentType,
  type MetricData,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { DebugExporterConfig } from '../config/types';
import { ATTR, METRIC } from '../catalogue/generated';

export type WriteLine = (line: string) => void;
const stdoutLine: WriteLine = (line) => process.stdout.write(line + '\n');
type Verbosity = DebugExporterConfig['verbosity'];

const fmtAttrs = (a: Record<string, unknown>): string =>
  Object.entries(a)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');

function sumBy(metrics: MetricData[], name: string, by?: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of metrics) {
    if (m.descriptor.name !== name || m.dataPointType !== DataPointType.SUM) continue;
    for (const p of m.dataPoints) {
      const k = by ? String(p.attributes[by] ?? '?') : '';
      out.set(k, (out.get(k) ?? 0) + p.value);
    }
  }
  return out;
}
const total = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);
function top(m: Map<string, number>, n: number): string {
  const parts = [...m].filter(([, v]) => v !== 0).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const shown = parts.slice(0, n).map(([k, v]) => `${k} ${v}`);
  if (parts.length > n) shown.push(`${parts.length - n} more`);
  return shown.length ? ` (${shown.join(', ')})` : '';
}

/** Drops by reason (top 3), resets by direction, retransmits — only when a packet_fate receiver exports them. */
function packetFateSummary(metrics: MetricData[]): string {
  const present = (name: string) => metrics.some((m) => m.descriptor.name === name);
  if (!present(METRIC.PACKET_DROPS) && !present(METRIC.TCP_RESETS) && !present(METRIC.TCP_RETRANSMITS)) return '';
  const drops = sumBy(metrics, METRIC.PACKET_DROPS, ATTR.DROP_REASON);
  const resets = sumBy(metrics, METRIC.TCP_RESETS, ATTR.NETWORK_IO_DIRECTION);
  const rtx = total(sumBy(metrics, METRIC.TCP_RETRANSMITS));
  return ` | ${total(drops)} packets dropped${top(drops, 3)} | ${resets.get('transmit') ?? 0} resets sent, ${resets.get('receive') ?? 0} received | ${rtx} retransmits`;
}

/** One line: opened in the interval by process (top 5), currently open by state, failed, packet fate, lost events. */
export function summarizeMetrics(rm: ResourceMetrics): string {
  const metrics = rm.scopeMetrics.flatMap((s) => s.metrics);
  const opened = sumBy(metrics, METRIC.CONNECTION_OPENED, ATTR.PROCESS_EXECUTABLE_NAME);
  const open = sumBy(metrics, METRIC.CONNECTION_ACTIVE, ATTR.NETWORK_CONNECTION_STATE);
  const failed = sumBy(metrics, METRIC.CONNECTION_FAILED, ATTR.ERROR_TYPE);
  const lost = total(sumBy(metrics, METRIC.AGENT_EVENTS_LOST));
  return (
    `netwatch: ${total(opened)} connections opened${top(opened, 5)} | ${total(open)} open${top(open, 14)} | ` +
    `${total(failed)} failed${top(failed, 3)}${packetFateSummary(metrics)} | ${lost} events lost`
  );
}

function pointLines(m: MetricData): string[] {
  const { name, unit } = m.descriptor;
  if (m.dataPointType === DataPointType.HISTOGRAM) {
    return m.dataPoints.map((p) => `${name} {${fmtAttrs(p.attributes)}} count=${p.value.count} sum=${p.value.sum ?? 0}${unit}`);
  }
  if (m.dataPointType === DataPointType.EXPONENTIAL_HISTOGRAM) {
    return m.dataPoints.map((p) => `${name} {${fmtAttrs(p.attributes)}} count=${p.value.count} sum=${p.value.sum ?? 0}${unit}`);
  }
  return m.dataPoints.map((p) => `${name} {${fmtAttrs(p.attributes)}} ${p.value} ${unit}`);
}

export class DebugMetricExporter implements PushMetricExporter {
  constructor(
    private readonly verbosity: Verbosity,
    private readonly write: WriteLine = stdoutLine,
  ) {}

  export(rm: ResourceMetrics, done: (r: ExportResult) => void): void {
    switch (this.verbosity) {
      case 'basic':
        this.write(summarizeMetrics(rm));
        break;
      case 'normal':
        for (const s of rm.scopeMetrics) for (const m of s.metrics) for (const l of pointLines(m)) this.write(l);
        break;
      case 'detailed':
        this.write(JSON.stringify({ resource: rm.resource.attributes, scopeMetrics: rm.scopeMetrics }, null, 2));
        break;
    }
    done({ code: ExportResultCode.SUCCESS });
  }

  /** Counters as deltas so `basic` can say what happened in the interval; up-down counters stay levels. */
  selectAggregationTemporality(t: InstrumentType): AggregationTemporality {
    return t === InstrumentType.UP_DOWN_COUNTER ||
      t === InstrumentType.OBSERVABLE_UP_DOWN_COUNTER ||
      t === InstrumentType.GAUGE ||
      t === InstrumentType.OBSERVABLE_GAUGE
      ? AggregationTemporality.CUMULATIVE
      : AggregationTemporality.DELTA;
  }
  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

export class DebugLogExporter implements LogRecordExporter {
  constructor(
    private readonly verbosity: Verbosity,
    private readonly write: WriteLine = stdoutLine,
  ) {}

  export(logs: ReadableLogRecord[], done: (r: ExportResult) => void): void {
    switch (this.verbosity) {
      case 'basic': {
        const byEvent = new Map<string, number>();
        for (const r of logs) byEvent.set(r.eventName ?? '-', (byEvent.get(r.eventName ?? '-') ?? 0) + 1);
        this.write(`netwatch: ${logs.length} log records${top(byEvent, 5)}`);
        break;
      }
      case 'normal':
        for (const r of logs) {
          const t = new Date(hrTimeToMilliseconds(r.hrTime)).toISOString();
          this.write(
            `${t} ${r.severityText ?? ''} ${r.eventName ?? '-'} ${typeof r.body === 'string' ? r.body : JSON.stringify(r.body)} ${fmtAttrs(r.attributes)}`,
          );
        }
        break;
      case 'detailed':
        for (const r of logs) {
          this.write(
            JSON.stringify({
              timeUnixMs: hrTimeToMilliseconds(r.hrTime),
              eventName: r.eventName,
              severityNumber: r.severityNumber,
              severityText: r.severityText,
              body: r.body,
              attributes: r.attributes,
              resource: r.resource.attributes,
            }),
          );
        }
        break;
    }
    done({ code: ExportResultCode.SUCCESS });
  }
  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}
