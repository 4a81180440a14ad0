// The tracers a connection storm runs under: nothing, the netwatch agent (the real CLI running the
// shipped config/agent.yaml, exporting to an OTLP sink — as shipped, and with wakeup_bytes 0, the
// default before issue 14), libbpf-tools `tcpstates`, and `bpftrace` counting sock:inet_sock_set_state.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseConfig } from '../../src/config';
import { agentBenchConfig, EXPORT_INTERVAL_MS, readShippedConfig } from './agent-config';
import { processMemory } from './cpu';
import { BENCH_SRC } from './paths';
import type { SinkProcess } from './sink';

export const CONDITIONS = ['none', 'agent', 'agent-wakeup0', 'tcpstates', 'bpftrace'] as const;
export type Condition = (typeof CONDITIONS)[number];
/** The conditions that run the netwatch agent. */
export const AGENT_CONDITIONS: readonly Condition[] = ['agent', 'agent-wakeup0'];

/** What a tracer saw of one storm, beyond the storm's own throughput. */
export interface TracerReport {
  /** Events the tracer reported or counted (agent: records read from its ring). */
  events: number;
  /** Events the tracer says it lost (agent: its lost counter; tcpstates: perf buffer losses). */
  lost: number;
  /** Connections the agent counted in netwatch.connection.opened, per direction. */
  openedOutbound?: number;
  openedInbound?: number;
  /** Peak resident memory of the tracer's process. */
  peakRssBytes: number;
}

export interface Tracer {
  readonly condition: Condition;
  /** The tracer's process (undefined for `none`). */
  readonly pid: number | undefined;
  /**
   * Called once the storm is over; resolves with what the tracer saw, the tracer stopped. `counts`
   * false: stop without waiting for the agent's counts (a storm measured for something else).
   */
  finish(storm: StormSeen, opts?: { counts?: boolean }): Promise<TracerReport>;
}

/** What the agent's counts are checked against: the storm's connections, its listeners' ports, its family. */
export interface StormSeen {
  connections: number;
  ports: number[];
  networkType: 'ipv4' | 'ipv6';
}

const CLI = resolve(BENCH_SRC, '../../dist/src/cli/main.js');
const READY_TIMEOUT_MS = 30_000;
const TRACEPOINT = 'inet_sock_set_state';
// bpftrace 0.17: the tracepoint's counter, printed when it exits on SIGINT.
const BPFTRACE_PROGRAM = 'tracepoint:sock:inet_sock_set_state { @transitions = count(); }';

/** Resolve on the first stdout/stderr line that matches; reject if the process ends first. */
function waitForLine(child: ChildProcess, stream: 'stdout' | 'stderr', match: RegExp, what: string, onLine?: (l: string) => void): Promise<void> {
  let tail = '';
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} not ready within ${READY_TIMEOUT_MS} ms: ${tail}`)), READY_TIMEOUT_MS);
    let done = false;
    createInterface({ input: child[stream]! }).on('line', (l) => {
      tail = (tail + l + '\n').slice(-2000);
      onLine?.(l);
      if (!done && match.test(l)) {
        done = true;
        clearTimeout(timer);
        resolvePromise();
      }
    });
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      if (!done) reject(new Error(`${what} exited (${sig ?? code}) before it was ready: ${tail}`));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  const gone = exited(child);
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await gone;
  clearTimeout(timer);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function startTracer(condition: Condition, sink: SinkProcess): Promise<Tracer> {
  switch (condition) {
    case 'none':
      return { condition, pid: undefined, finish: async () => ({ events: 0, lost: 0, peakRssBytes: NaN }) };
    case 'agent':
      return startAgent(condition, sink, undefined);
    case 'agent-wakeup0':
      return startAgent(condition, sink, 0);
    case 'tcpstates':
      return startTcpstates();
    case 'bpftrace':
      return startBpftrace();
  }
}

/** A port no one listens on now, for the agent's server. */
function freePort(): Promise<number> {
  const srv = createServer();
  return new Promise((resolvePort, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolvePort(port));
    });
  });
}

/**
 * The agent as users run it: the CLI with the shipped config/agent.yaml (agent-config.ts says what
 * the bench changes), exporting to the sink. `wakeupBytes` undefined: as shipped.
 */
async function startAgent(condition: 'agent' | 'agent-wakeup0', sink: SinkProcess, wakeupBytes: number | undefined): Promise<Tracer> {
  const dir = mkdtempSync(join(tmpdir(), 'nwb-agent-'));
  const config = join(dir, 'agent.yaml');
  const text = agentBenchConfig(readShippedConfig(), { sinkEndpoint: sink.grpcEndpoint, serverPort: await freePort(), wakeupBytes });
  writeFileSync(config, text);
  // The kernel's counters reach the metrics once per `interval` (shipped: 10 s): how long counts may take.
  const receiver = parseConfig(text, config).receivers.connections;
  const countsWithinMs = (receiver?.type === 'connections' ? receiver.interval_ms : 10_000) + 3 * EXPORT_INTERVAL_MS;
  // Each agent's counts alone: a listener port of an earlier storm may come again.
  await sink.clear();
  const child = spawn(process.execPath, [CLI, 'run', '-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  const problems: string[] = [];
  try {
    await waitForLine(child, 'stderr', /\brunning\b/, 'the agent', (l) => {
      if (/ ERROR /.test(l)) problems.push(l);
    });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    condition,
    pid: child.pid,
    async finish(storm, opts = {}) {
      const opened = async (direction: string): Promise<number> => {
        let n = 0;
        for (const port of storm.ports) {
          n += await sink.sumOf('netwatch.connection.opened', {
            'netwatch.connection.direction': direction,
            'network.type': storm.networkType,
            'server.port': port,
            'process.executable.name': 'connstorm',
          });
        }
        return n;
      };
      let report: TracerReport = { events: NaN, lost: NaN, peakRssBytes: processMemory(child.pid!).peak };
      if (opts.counts !== false) {
        // Wait for the counts after the storm: complete, or one counter interval and three exports gone by.
        const deadline = Date.now() + countsWithinMs;
        while (Date.now() < deadline) {
          if ((await opened('outbound')) >= storm.connections && (await opened('inbound')) >= storm.connections) break;
          await sleep(EXPORT_INTERVAL_MS / 4);
        }
        await sleep(EXPORT_INTERVAL_MS + 200); // one more export, so lost/read are those after the storm
        const attrs = { 'netwatch.probe': 'connections' };
        report = {
          events: await sink.sumOf('netwatch.agent.events.read', attrs),
          lost: await sink.sumOf('netwatch.agent.events.lost', attrs),
          openedOutbound: await opened('outbound'),
          openedInbound: await opened('inbound'),
          peakRssBytes: processMemory(child.pid!).peak,
        };
      }
      await stopChild(child, 'SIGTERM');
      rmSync(dir, { recursive: true, force: true });
      for (const p of problems) process.stderr.write(`  agent said: ${p}\n`);
      return report;
    },
  };
}

/** Resolve once `pid` has a BPF program on the tracepoint (what bpftool perf lists), or fail. */
async function attached(child: ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode) throw new Error(`${what} exited (${child.signalCode ?? child.exitCode}) before it attached`);
    const out = execFileSync('bpftool', ['perf'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    if (out.split('\n').some((l) => l.startsWith(`pid ${child.pid} `) && l.includes(TRACEPOINT))) return;
    if (Date.now() > deadline) throw new Error(`${what} did not attach to ${TRACEPOINT} within ${READY_TIMEOUT_MS} ms`);
    await sleep(50);
  }
}

/**
 * libbpf-tools tcpstates: one line per state change on its stdout, a pipe whose lines we count —
 * fully buffered by its libc, its cheapest way to print (a terminal would flush every line).
 */
async function startTcpstates(): Promise<Tracer> {
  const child = spawn('tcpstates', [], { stdio: ['ignore', 'pipe', 'pipe'] });
  let lines = 0,
    lost = 0,
    stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    for (const m of d.toString().matchAll(/lost (\d+) events/g)) lost += Number(m[1]);
  });
  createInterface({ input: child.stdout }).on('line', () => lines++);
  await attached(child, 'tcpstates');
  return {
    condition: 'tcpstates',
    pid: child.pid,
    async finish() {
      await sleep(500); // let it print what is in flight
      const peakRssBytes = processMemory(child.pid!).peak;
      await stopChild(child, 'SIGINT');
      if (child.exitCode && child.exitCode !== 0 && !/lost/.test(stderr)) process.stderr.write(`  tcpstates said: ${stderr.trim()}\n`);
      return { events: lines - 1, lost, peakRssBytes };
    },
  };
}

/** bpftrace with one in-kernel counter on the tracepoint; it prints the count when it exits. */
async function startBpftrace(): Promise<Tracer> {
  const child = spawn('bpftrace', ['-e', BPFTRACE_PROGRAM], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  createInterface({ input: child.stdout }).on('line', (l) => (out += l + '\n'));
  await attached(child, 'bpftrace'); // it says "Attaching 1 probe..." before it has
  return {
    condition: 'bpftrace',
    pid: child.pid,
    async finish() {
      const peakRssBytes = processMemory(child.pid!).peak;
      await stopChild(child, 'SIGINT');
      const m = /@transitions: (\d+)/.exec(out);
      if (!m) throw new Error(`bpftrace printed no count: ${out}`);
      return { events: Number(m[1]), lost: 0, peakRssBytes };
    },
  };
}
