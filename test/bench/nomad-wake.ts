// Benchmark: time from the ring-buffer record of the first matching packet to the scale request
// leaving the agent, over many wakes, against the Nomad API double on loopback.
//
//   node dist/test/bench/nomad-wake.js [--wakes 1000] [--kernel] [--read-then-write]
//
// Default: synthetic sni events (stamped readAtNs = now, as the sni receiver stamps a record when
// it reads it) go through the real pipeline runner into nomad_autostart, whose warm state (the
// event stream of a current Nomad) lets it post the scale request at once: one request per wake.
// --read-then-write runs the double as Nomad 1.8.1 (no check-and-set on scale requests), so each
// wake reads the scale status first, as before issue 15 item 2. --kernel (root): real SYNs to a
// watched port of a namespace made here, seen by the real sni receiver (TC), whose ring record read
// time is the start. "Leaving the agent" is undici's `undici:request:bodySent` diagnostics channel:
// the request was written to the socket. Each wake first finds the group at 0 (set back between
// wakes, untimed, and with warm state only once the agent has heard of it on the event stream).
// The double runs in a child process, so its work is not on the agent's event loop.
import { spawn } from 'node:child_process';
import diagnosticsChannel from 'node:diagnostics_channel';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseConfig } from '../../src/config';
import { Enricher } from '../../src/enrich/enricher';
import type { ConnectionsReceiverConfig } from '../../src/receivers/connections/config';
import type { SniReceiverConfig } from '../../src/receivers/sni/config';
import { setLogSink } from '../../src/log';
import type { PipelineEvent, SniPipelineEvent } from '../../src/pipeline/event';
import type { NomadAutostartProcessor } from '../../src/pipeline/processors/nomad_autostart';
import { buildPipelines } from '../../src/pipeline/runner';
import { ConnectionsReceiver } from '../../src/receivers/connections/receiver';
import { SniReceiver } from '../../src/receivers/sni/receiver';
import { createContainerNetns } from '../helpers/container-netns';
import { rawCall } from '../helpers/nomad';
import { connectRefused } from '../helpers/tls-clients';
import { sniEvent } from '../unit/pipeline/events';
import { NOMAD_WAKE_TARGET_P50_MS, NOMAD_WAKE_TARGET_P99_MS } from './report';

export interface NomadWakeResult {
  mode: 'synthetic' | 'kernel';
  /** How the agent wrote: one check-and-set from warm state, or read the scale status first. */
  write: 'warm' | 'read-then-write';
  wakes: number;
  /** Milliseconds, sorted ascending. */
  samples: number[];
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** The same minus the time Nomad (the double) took to answer the status read, if any: the agent's own share. */
  own: { p50: number; p90: number; p99: number; max: number };
  /** 1-minute load average when the run ended (the machine is shared). */
  load: number;
}

const JOBS = 50;
const WARMUP = 50;
const PORT0 = 15_400; // --kernel: one watched port per job (nothing listens on them)

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];

/** Nomad without a check-and-set on scale requests (before 1.8.2). */
const OLD_NOMAD = '1.8.1';

/** The double in a child process (its work off this event loop), with JOBS jobs at 0. */
async function startDouble(version?: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const args = [join(__dirname, 'nomad-double-server.js'), String(JOBS), ...(version ? [version] : [])];
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the Nomad double exited with ${code}`)));
  });
  return {
    url: (JSON.parse(line) as { url: string }).url,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.stdin.end();
      }),
  };
}

function yaml(d: { url: string }, kernel: boolean, ifname: string): string {
  const rules = Array.from({ length: JOBS }, (_, j) =>
    kernel
      ? `      - { name: r${j}, match: { syn_to_port: ${PORT0 + j} }, job: job${j}, group: g, wait_for: none, cooldown: 1ms }`
      : `      - { name: r${j}, match: { sni: [app-${j}.bench.example] }, job: job${j}, group: g, wait_for: none, cooldown: 1ms }`,
  ).join('\n');
  return `
receivers:
  connections:
    seed_existing: false
  sni:
    interfaces: [${ifname}]
    ports: [${Array.from({ length: JOBS }, (_, j) => PORT0 + j).join(', ')}]
    poll_interval: 1ms
processors:
  nomad_autostart:
    address: ${d.url}
    agent_host: bench
    rules:
${rules}
exporters:
  debug:
service:
  pipelines:
    metrics:
      receivers: [connections, sni]
      processors: [nomad_autostart]
      exporters: [debug]
`;
}

/** Waits (untimed) until the agent's warm state shows `job` at 0 as of the reset's write. */
async function untilHeard(processor: NomadAutostartProcessor, job: string, jobModifyIndex: number): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const w = processor.warmJob('default', job);
    if (w.current && w.job?.kind === 'present' && w.job.jobModifyIndex >= jobModifyIndex && w.job.counts.get('g') === 0) return;
    if (Date.now() > deadline) throw new Error(`the agent did not hear of ${job}'s reset within 5 s`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

export async function runNomadWakeBench(opts: { wakes?: number; kernel?: boolean; readThenWrite?: boolean } = {}): Promise<NomadWakeResult> {
  const wakes = opts.wakes ?? 1000;
  const kernel = opts.kernel ?? false;
  const write = opts.readThenWrite ? 'read-then-write' : 'warm';
  setLogSink(() => undefined); // a line per wake on stderr would be timed too
  const d = await startDouble(opts.readThenWrite ? OLD_NOMAD : undefined);
  const net = kernel ? createContainerNetns('nwnb', 241) : undefined;
  const cfg = parseConfig(yaml(d, kernel, net?.hostIf ?? 'lo'), 'nomad-wake-bench.yaml', {});
  const runner = buildPipelines(cfg, { exporterSinks: () => ({ consume: () => undefined }) });
  const processor = runner.processors.get('nomad_autostart') as NomadAutostartProcessor;
  await processor.ready();
  const expected = write === 'warm' ? 'check-and-set' : 'read-then-write';
  if (processor.writeMode?.kind !== expected) throw new Error(`the agent writes ${processor.writeMode?.kind ?? 'nothing'}, not ${expected}`);

  // The read time of the first matching record per job, and the moment its scale request is written.
  const firstReadAt = new Map<string, bigint>();
  let sent: ((job: string, at: bigint) => void) | undefined;
  // The status read's time on the wire, from its request written to its answer's end (0 without one: set per wake).
  let readSentAt = 0n;
  let readTook: bigint;
  const jobOf = (req: { method: string; path: string }): string | undefined => {
    const m = /^\/v1\/job\/([^/?]+)\/scale/.exec(req.path);
    return m ? decodeURIComponent(m[1]) : undefined;
  };
  const onBodySent = (msg: unknown): void => {
    const at = process.hrtime.bigint();
    const req = (msg as { request: { method: string; path: string } }).request;
    const job = jobOf(req);
    if (job === undefined) return;
    if (req.method === 'POST') sent?.(job, at);
    else readSentAt = at;
  };
  const onTrailers = (msg: unknown): void => {
    const req = (msg as { request: { method: string; path: string } }).request;
    if (req.method === 'GET' && jobOf(req) !== undefined) readTook = process.hrtime.bigint() - readSentAt;
  };
  diagnosticsChannel.subscribe('undici:request:bodySent', onBodySent);
  diagnosticsChannel.subscribe('undici:request:trailers', onTrailers);

  let enricher: Enricher | undefined;
  let conn: ConnectionsReceiver | undefined;
  let sni: SniReceiver | undefined;
  if (kernel) {
    enricher = new Enricher();
    const dispatch =
      (id: string) =>
      (ev: PipelineEvent): void => {
        if (ev.source === 'sni' && ev.kind === 'syn') {
          const job = `job${ev.serverPort - PORT0}`;
          if (!firstReadAt.has(job)) firstReadAt.set(job, ev.readAtNs);
        }
        runner.dispatch(id, ev);
      };
    conn = new ConnectionsReceiver('connections', cfg.receivers.connections as ConnectionsReceiverConfig, {
      enricher,
      dispatch: dispatch('connections'),
      shared: () => ({}),
    });
    conn.start();
    sni = new SniReceiver('sni', cfg.receivers.sni as SniReceiverConfig, { enricher, dispatch: dispatch('sni'), shared: () => conn!.sharedMaps() });
    sni.start();
  }

  const samples: number[] = [];
  const own: number[] = [];
  try {
    for (let i = 0; i < wakes + WARMUP; i++) {
      const j = i % JOBS;
      const job = `job${j}`;
      if (i >= JOBS) {
        // Back to 0 (untimed), past the 1 ms cooldown, and heard of.
        const reset = await rawCall(d.url, 'POST', `/v1/job/${job}/scale`, { body: { Count: 0, Target: { Group: 'g' }, Message: 'bench reset' } });
        if (write === 'warm') await untilHeard(processor, job, (reset.json() as { JobModifyIndex: number }).JobModifyIndex);
        await new Promise((r) => setTimeout(r, 2));
      }
      firstReadAt.delete(job);
      readTook = 0n;
      const posted = new Promise<bigint>((resolve) => (sent = (which, at) => which === job && resolve(at)));
      if (kernel) {
        await connectRefused(net!.ns4, PORT0 + j);
      } else {
        const ev: SniPipelineEvent = sniEvent({ serverName: `app-${j}.bench.example`, clientAddress: '10.1.2.3', readAtNs: process.hrtime.bigint() });
        firstReadAt.set(job, ev.readAtNs);
        runner.dispatch('sni', ev);
      }
      const at = await posted;
      await processor.settled();
      if (i >= WARMUP) {
        const total = at - firstReadAt.get(job)!;
        samples.push(Number(total) / 1e6);
        own.push(Number(total - readTook) / 1e6);
      }
    }
  } finally {
    diagnosticsChannel.unsubscribe('undici:request:bodySent', onBodySent);
    diagnosticsChannel.unsubscribe('undici:request:trailers', onTrailers);
    sni?.stop();
    conn?.stop();
    enricher?.close();
    await runner.shutdown();
    await d.stop();
    net?.remove();
    setLogSink((line) => process.stderr.write(line + '\n'));
  }
  samples.sort((a, b) => a - b);
  own.sort((a, b) => a - b);
  return {
    mode: kernel ? 'kernel' : 'synthetic',
    write,
    wakes,
    samples,
    p50: quantile(samples, 0.5),
    p90: quantile(samples, 0.9),
    p99: quantile(samples, 0.99),
    max: samples[samples.length - 1],
    own: { p50: quantile(own, 0.5), p90: quantile(own, 0.9), p99: quantile(own, 0.99), max: own[own.length - 1] },
    load: loadavg()[0],
  };
}

export function formatNomadWake(r: NomadWakeResult): string {
  const ms = (x: number): string => `${x.toFixed(3)} ms`;
  const how = r.mode === 'kernel' ? "real SYNs seen by the sni receiver (TC) on a test namespace's veth" : 'synthetic sni events through the pipeline runner';
  const met = (ok: boolean): string => (ok ? 'met' : 'NOT met');
  const lines = [
    `nomad-wake: ${r.wakes} wakes, ${how}, Nomad API double on 127.0.0.1`,
    r.write === 'warm'
      ? '  first matching ring record read -> scale request written to the socket (from warm state: POST scale, nothing before it):'
      : '  first matching ring record read -> scale request written to the socket (read then write: GET status, then POST scale):',
    `  p50 ${ms(r.p50)}   p90 ${ms(r.p90)}   p99 ${ms(r.p99)}   max ${ms(r.max)}`,
  ];
  if (r.write === 'read-then-write') {
    lines.push("  of which the agent's own (without the time Nomad took to answer the status read):");
    lines.push(`  p50 ${ms(r.own.p50)}   p90 ${ms(r.own.p90)}   p99 ${ms(r.own.p99)}   max ${ms(r.own.max)}`);
  }
  lines.push(
    `  targets: p50 < ${NOMAD_WAKE_TARGET_P50_MS} ms ${met(r.p50 < NOMAD_WAKE_TARGET_P50_MS)}, p99 < ${NOMAD_WAKE_TARGET_P99_MS} ms ${met(r.p99 < NOMAD_WAKE_TARGET_P99_MS)}` +
      ` (load average ${r.load.toFixed(2)} on ${cpus().length} CPUs while it ran${r.load > cpus().length ? ': the machine was oversubscribed' : ''})`,
  );
  return lines.join('\n');
}

async function main(argv: string[]): Promise<void> {
  const at = argv.indexOf('--wakes');
  const wakes = at >= 0 ? Number(argv[at + 1]) : 1000;
  if (!Number.isInteger(wakes) || wakes < 1) throw new Error('--wakes takes a whole number');
  const result = await runNomadWakeBench({ wakes, kernel: argv.includes('--kernel'), readThenWrite: argv.includes('--read-then-write') });
  process.stdout.write(formatNomadWake(result) + '\n');
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`${(e as Error).stack ?? e}\n`);
    process.exitCode = 1;
  });
}
