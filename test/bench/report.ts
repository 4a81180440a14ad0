// The bench's output: one table per part on stdout, the same in Markdown (results.md), and every
// run's value in JSON (results.json). Rows say what was measured, in which unit, and the target.
import type { Machine } from './machine';
import type { Samples, Summary } from './stats';
import { BATCHED_WAKEUP_BYTES } from './tracers';

export type Part = 'reader' | 'pipeline' | 'workload' | 'nomad';

interface Row {
  key: string;
  label: string;
  unit: string;
  /** Displayed value = raw × scale. */
  scale: number;
  digits: number;
  target?: { text: string; met: (displayed: number) => boolean };
}

const atLeast = (n: number, unit: string) => ({ text: `≥ ${n} ${unit}`.trim(), met: (v: number) => v >= n });
const atMost = (n: number, unit: string) => ({ text: `≤ ${n} ${unit}`.trim(), met: (v: number) => v <= n });
const zero = { text: '0', met: (v: number) => v === 0 };
const below = (n: number, unit: string) => ({ text: `< ${n} ${unit}`, met: (v: number) => v < n });

/** Issue 15 item 2's targets for a wake, trigger to scale request. */
export const NOMAD_WAKE_TARGET_P50_MS = 0.5;
export const NOMAD_WAKE_TARGET_P99_MS = 1.5;

const r = (key: string, label: string, unit: string, scale = 1, digits = 1, target?: Row['target']): Row => ({ key, label, unit, scale, digits, target });

function readerRows(): Row[] {
  const rows: Row[] = [r('producer.fill.events_per_s', 'kernel producer alone (filling an empty ring)', 'M events/s', 1e-6, 2)];
  for (const [who, name] of [
    ['js', 'JS RingBufferReader'],
    ['c', 'C ring_buffer__consume'],
  ] as const) {
    rows.push(r(`drain.${who}.events_per_s`, `drain of a full ring: ${name}`, 'M events/s', 1e-6, 1));
    rows.push(r(`drain.${who}.cpu_ns_per_event`, `  CPU per event`, 'ns', 1, 1));
  }
  rows.push(r('drain.ratio', 'drain: JS / C events per second', '%', 100, 0, atLeast(90, '%')));
  rows.push(r('drain.cpu_ratio', 'drain: JS / C events per CPU second (not inflated by preemption)', '%', 100, 0));
  for (const [who, name] of [
    ['js', 'JS RingBufferReader'],
    ['c', 'C ring_buffer__consume'],
  ] as const) {
    rows.push(r(`live.${who}.producer_events_per_s`, `live, adaptive wakeups (wakeup_bytes 0, the probes' default), ${name}: producer`, 'M events/s', 1e-6, 2));
    rows.push(r(`live.${who}.events_per_s`, `  read`, 'M events/s', 1e-6, 2));
    rows.push(r(`live.${who}.cpu_ns_per_event`, `  reader CPU per event`, 'ns', 1, 0));
    rows.push(r(`live.${who}.cpu_percent`, `  reader CPU`, '% of a core', 1, 0));
    rows.push(r(`live.${who}.lost`, `  lost (ring full)`, 'events', 1, 0, who === 'js' ? zero : undefined));
    rows.push(r(`live.${who}.waited_percent`, `  reader runnable but waiting for a CPU (other processes)`, '% of the run', 1, 0));
  }
  rows.push(r('live.ratio', 'live: JS / C events read per second', '%', 100, 0, atLeast(90, '%')));
  rows.push(r('live.cpu_ratio', 'live: JS / C events per CPU second', '%', 100, 0));
  rows.push(r('live.js.of_ceiling', 'live: JS read rate / producer alone', '%', 100, 0));
  for (const [who, name] of [
    ['js', 'JS RingBufferReader'],
    ['c', 'C ring_buffer__consume'],
  ] as const) {
    rows.push(r(`batched.${who}.producer_events_per_s`, `live, batched wakeups (wakeup_bytes = ring/4), ${name}: producer`, 'M events/s', 1e-6, 2));
    rows.push(r(`batched.${who}.events_per_s`, `  read`, 'M events/s', 1e-6, 2));
    rows.push(r(`batched.${who}.cpu_ns_per_event`, `  reader CPU per event`, 'ns', 1, 0));
    rows.push(r(`batched.${who}.lost`, `  lost (ring full)`, 'events', 1, 0, who === 'js' ? zero : undefined));
    rows.push(r(`batched.${who}.waited_percent`, `  reader runnable but waiting for a CPU`, '% of the run', 1, 0));
  }
  return rows;
}

function pipelineRows(): Row[] {
  return [
    r('metrics.events_per_s', 'metrics pipeline: events into metrics, one core', 'M events/s', 1e-6, 2, atLeast(1, 'M events/s')),
    r('metrics.cpu_ns_per_event', '  CPU per event (all threads)', 'ns', 1, 0),
    r('metrics.missing_in_metrics', '  events not found in the exported metrics', 'events', 1, 0, zero),
    r('metrics.peak_rss_mb', '  peak RSS', 'MiB', 1, 0, atMost(150, 'MiB')),
    r('metrics+logs.events_per_s', 'default config (metrics + logs capped at 1000/s)', 'M events/s', 1e-6, 2, atLeast(1, 'M events/s')),
    r('metrics+logs.cpu_ns_per_event', '  CPU per event', 'ns', 1, 0),
    r('metrics+logs.log_records_per_s', '  log records received by the sink', 'records/s', 1, 0),
    r('metrics+logs.missing_in_metrics', '  events not found in the exported metrics', 'events', 1, 0, zero),
    r('metrics+logs.peak_rss_mb', '  peak RSS (4 MiB ring of records)', 'MiB', 1, 0, atMost(150, 'MiB')),
    r('logs-uncapped.events_per_s', 'logs pipeline, a record per event (no cap)', 'M events/s', 1e-6, 3),
    r('logs-uncapped.cpu_ns_per_event', '  CPU per event', 'ns', 1, 0),
    r('logs-uncapped.log_records_per_s', '  log records received by the sink', 'records/s', 1, 0),
    r('logs-uncapped.peak_rss_mb', '  peak RSS', 'MiB', 1, 0),
    r('stages.decode_ns', 'where the time goes: decode', 'ns CPU/event', 1, 0),
    r('stages.enrich_ns', '  + enrich', 'ns CPU/event', 1, 0),
    r('stages.metrics_ns', '  + pipeline and metric tables', 'ns CPU/event', 1, 0),
    r('stages.total_ns', '  = all three', 'ns CPU/event', 1, 0),
  ];
}

function workloadRows(): Row[] {
  const rows: Row[] = [
    r('foreign_tracers', "other processes' programs on sock:inet_sock_set_state during a storm (after waiting for none)", 'programs', 1, 0),
    r('none.connections_per_s', 'connection storm, no tracer', 'k conn/s', 1e-3, 1),
    r('none.storm_cpu_ns_per_connection', '  storm CPU per connection', 'µs', 1e-3, 1),
  ];
  const names = {
    agent: 'netwatch agent (CLI, default config: wakeup_bytes 0, a wakeup whenever the reader caught up)',
    'agent-batched': `netwatch agent, wakeup_bytes: ${BATCHED_WAKEUP_BYTES}`,
    tcpstates: 'libbpf-tools tcpstates',
    bpftrace: 'bpftrace counting the tracepoint',
  };
  for (const [c, name] of Object.entries(names)) {
    const agent = c.startsWith('agent');
    // The issue's targets are the default configuration's; the other agent row shows what a threshold buys.
    const judged = c === 'agent';
    rows.push(r(`${c}.connections_per_s`, `under ${name}`, 'k conn/s', 1e-3, 1));
    rows.push(r(`${c}.slowdown_percent`, '  storm slowdown (paired with the bare run of the same round)', '%', 1, 1, judged ? atMost(5, '%') : undefined));
    rows.push(r(`${c}.storm_cpu_ns_per_connection`, '  storm CPU per connection', 'µs', 1e-3, 1));
    rows.push(r(`${c}.tracer_cpu_percent`, '  tracer CPU', '% of a core', 1, 0));
    rows.push(r(`${c}.events_per_connection`, '  events the tracer reported per connection', 'events', 1, 1));
    rows.push(r(`${c}.lost`, '  events the tracer lost', 'events', 1, 0, judged ? zero : undefined));
    if (agent) {
      rows.push(r(`${c}.missed_connections`, '  storm connections missing from netwatch.connection.opened', 'connections', 1, 0, judged ? zero : undefined));
      rows.push(r(`${c}.cpu_ns_per_event`, '  agent CPU per event', 'ns', 1, 0));
      rows.push(r(`${c}.peak_rss_mb`, '  agent peak RSS (4 MiB ring)', 'MiB', 1, 0, judged ? atMost(150, 'MiB') : undefined));
      rows.push(r(`${c}.bpf_ns_per_connection`, '  its BPF programs per connection (one extra storm, run-time stats on)', 'µs', 1e-3, 1));
      for (const prog of ['conn_state', 'conn_connect4', 'conn_accept4_exit']) rows.push(r(`${c}.prog.${prog}.ns_per_run`, `    ${prog} per run`, 'ns', 1, 0));
    } else {
      rows.push(r(`${c}.peak_rss_mb`, '  tracer peak RSS', 'MiB', 1, 0));
    }
  }
  return rows;
}

function nomadRows(): Row[] {
  const rows: Row[] = [];
  for (const [mode, name] of [
    ['synthetic', 'sni events through the pipeline runner'],
    ['kernel', 'real SYNs seen by the sni receiver (TC)'],
  ] as const) {
    rows.push(
      r(
        `${mode}.p50_ms`,
        `${name}: first matching ring record read → scale request sent (one request, from warm state), p50`,
        'ms',
        1,
        3,
        below(NOMAD_WAKE_TARGET_P50_MS, 'ms'),
      ),
    );
    rows.push(r(`${mode}.p99_ms`, '  p99', 'ms', 1, 3, below(NOMAD_WAKE_TARGET_P99_MS, 'ms')));
  }
  return rows;
}

export const ROWS: Record<Part, () => Row[]> = { reader: readerRows, pipeline: pipelineRows, workload: workloadRows, nomad: nomadRows };
export const TITLES: Record<Part, string> = {
  reader: "Reader: the agent's ring-buffer reader against libbpf's, same ring, same producer",
  pipeline: 'Pipeline: conn records → decode → enrich → metrics / logs → OTLP/gRPC sink',
  workload: 'Workload cost: loopback connect/accept/close storm, with and without tracers',
  nomad: 'nomad_autostart: wake latency against the Nomad API double on loopback (1000 wakes per run)',
};

export interface Figure {
  label: string;
  unit: string;
  median: number;
  min: number;
  max: number;
  runs: number[];
  target?: string;
  met?: boolean;
}

export interface Results {
  machine: Machine;
  options: Record<string, unknown>;
  parts: Partial<Record<Part, Record<string, Figure>>>;
}

export function figures(part: Part, samples: Samples): Record<string, Figure> {
  const out: Record<string, Figure> = {};
  for (const row of ROWS[part]()) {
    const s: Summary = samples.summary(row.key);
    if (s.runs.length === 0) continue;
    const f = (v: number) => v * row.scale;
    const fig: Figure = { label: row.label.trim(), unit: row.unit, median: f(s.median), min: f(s.min), max: f(s.max), runs: s.runs.map(f) };
    if (row.target) {
      fig.target = row.target.text;
      fig.met = row.target.met(Number(fig.median.toFixed(row.digits)));
    }
    out[row.key] = fig;
  }
  return out;
}

function fmt(v: number, digits: number): string {
  if (!Number.isFinite(v)) return '—';
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function tableRows(part: Part, figs: Record<string, Figure>): string[][] {
  const rows: string[][] = [];
  for (const row of ROWS[part]()) {
    const f = figs[row.key];
    if (!f) continue;
    const verdict = f.target === undefined ? '' : `${f.target} ${f.met ? 'met' : 'NOT met'}`;
    rows.push([row.label, fmt(f.median, row.digits), `${fmt(f.min, row.digits)} – ${fmt(f.max, row.digits)}`, row.unit, verdict]);
  }
  return rows;
}

const HEAD = ['', 'median', 'min – max', 'unit', 'target'];

export function header(m: Machine, options: Record<string, unknown>): string[] {
  return [
    `netwatch bench, ${m.date}`,
    `machine: ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, kernel ${m.kernel}, node ${m.node}`,
    `load average (1 min): ${m.loadStart.toFixed(2)} at start, ${m.loadEnd?.toFixed(2) ?? '?'} at end; ` +
      `other processes' programs on sock:inet_sock_set_state at start: ${Number.isNaN(m.foreignTracers) ? 'unknown' : m.foreignTracers}`,
    `options: ${Object.entries(options)
      .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`)
      .join(' ')}`,
  ];
}

export function textTable(part: Part, figs: Record<string, Figure>): string {
  const rows = [HEAD, ...tableRows(part, figs)];
  const widths = HEAD.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === 0 || i === 3 || i === 4 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [TITLES[part], line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

export function markdown(res: Results): string {
  const out = ['# netwatch benchmark results', '', 'Generated by `npm run bench` (test/bench/run.ts); how to read them: [README.md](README.md).', ''];
  for (const l of header(res.machine, res.options)) out.push(`- ${l}`);
  for (const part of Object.keys(res.parts) as Part[]) {
    out.push(
      '',
      `## ${TITLES[part]}`,
      '',
      `| ${HEAD.map((h) => h || 'figure').join(' | ')} |`,
      `| --- | ${HEAD.slice(1)
        .map((_, i) => (i === 2 || i === 3 ? '---' : '---:'))
        .join(' | ')} |`,
    );
    for (const row of tableRows(part, res.parts[part]!)) out.push(`| ${row.map((c) => c.replace(/^ +/, '↳ ').replace(/\|/g, '\\|')).join(' | ')} |`);
  }
  return out.join('\n') + '\n';
}
