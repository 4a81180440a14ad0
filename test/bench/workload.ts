// Part 3, workload cost: a connection storm (c/connstorm.c) on the loopback of a network namespace
// of our own, with no tracer, under the agent, under tcpstates and under bpftrace — interleaved in
// rounds (the order rotating each round) so that the machine's noise falls on every condition alike.
// One call runs one variant of the storm (workload-variants.ts): its close, family and threads.
import { execFileSync, spawn } from 'node:child_process';
import { programCosts, withBpfStats } from './bpf-stats';
import { processCpuNs } from './cpu';
import { foreignTracers } from './machine';
import { benchBin } from './paths';
import { SinkProcess } from './sink';
import { Samples } from './stats';
import { AGENT_CONDITIONS, CONDITIONS, type Condition, type StormSeen, startTracer } from './tracers';
import { describeVariant, type Family, type StormShape, type WorkloadVariant } from './workload-variants';

export interface WorkloadOptions {
  rounds: number;
  stormMs: number;
  variant: WorkloadVariant;
  conditions: readonly Condition[];
  /** Pause after a tracer attached (and before a bare run) before the storm starts. */
  settleMs: number;
  /** One more storm per round and agent condition with BPF run-time statistics on, to see the agent's in-kernel cost. */
  kernelCost: boolean;
  /** Before each storm, how long to wait for other processes' programs to leave the tracepoint. */
  quietWaitMs: number;
}

/** Where the storm's extra time under the agent goes in the kernel: its programs' run time per connection. */
async function kernelCost(
  condition: Condition,
  o: WorkloadOptions,
  sink: SinkProcess,
  s: Samples,
  progress: (l: string) => void,
  round: string,
): Promise<void> {
  freshNetns(NETNS, o.variant.family);
  const tracer = await startTracer(condition, sink);
  try {
    await sleep(o.settleMs);
    await quietTracepoint([process.pid, tracer.pid!], o.quietWaitMs);
    const before = programCosts(tracer.pid!);
    const st = await withBpfStats(() => storm(o.stormMs, o.variant));
    const after = programCosts(tracer.pid!);
    let ns = 0;
    const parts: string[] = [];
    for (const a of after) {
      const b = before.find((x) => x.name === a.name) ?? { runs: 0, ns: 0 };
      const runs = a.runs - b.runs,
        t = a.ns - b.ns;
      ns += t;
      if (runs > 0) {
        s.add(`${condition}.prog.${a.name}.ns_per_run`, t / runs);
        parts.push(`${a.name} ${(t / runs).toFixed(0)} ns × ${(runs / st.connections).toFixed(1)}`);
      }
    }
    s.add(`${condition}.bpf_ns_per_connection`, ns / st.connections);
    progress(
      `workload ${o.variant.name} ${round} ${condition} with BPF run-time stats: ${(ns / st.connections / 1e3).toFixed(2)} µs of BPF programs per connection (${parts.join(', ')} per connection)`,
    );
    await tracer.finish(seen(st, o.variant.family), { counts: false });
  } finally {
    removeNetns();
  }
}

const NETNS = 'nwbstorm';

/** Destinations of each storm thread (connstorm's ADDRESSES): 127.0.0.1 .. 127.0.0.64, or the IPv6 ones below. */
export const STORM_ADDRESSES = 64;
/** IPv6 has one loopback address: the storm's IPv6 destinations are these, added to the namespace's lo (as in c/connstorm.c). */
export const STORM_V6_PREFIX = 'fd00:6e77::';

/** The storm's IPv6 destinations, fd00:6e77::1 .. fd00:6e77::40 (hex, as connstorm numbers them). */
export function stormV6Addresses(count = STORM_ADDRESSES): string[] {
  return Array.from({ length: count }, (_, i) => `${STORM_V6_PREFIX}${(i + 1).toString(16)}`);
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * A fresh namespace for a storm, with only loopback: its TIME_WAIT sockets (none are kept at all,
 * so that runs stay alike — the sysctl is both families') and ports are its own, and nothing is
 * left over once it is removed. For an IPv6 storm, its destinations are added to lo (nodad: usable
 * at once, not tentative).
 */
export function freshNetns(name = NETNS, family: Family = 4): void {
  removeNetns(name);
  ip('netns', 'add', name);
  ip('-n', name, 'link', 'set', 'lo', 'up');
  execFileSync('ip', ['netns', 'exec', name, 'sysctl', '-q', '-w', 'net.ipv4.tcp_max_tw_buckets=0']);
  if (family === 6) {
    const batch = stormV6Addresses().map((a) => `address add ${a}/128 dev lo nodad`);
    execFileSync('ip', ['-n', name, '-batch', '-'], { input: batch.join('\n') + '\n', stdio: ['pipe', 'ignore', 'pipe'] });
  }
}

export function removeNetns(name = NETNS): void {
  try {
    ip('netns', 'del', name);
  } catch {
    /* not there */
  }
}

export interface Storm {
  connections: number;
  failures: number;
  wall_ns: number;
  cpu_ns: number;
  ports: number[];
}

/** What the agent's counts of a storm are checked against. */
export function seen(st: Storm, family: Family): StormSeen {
  return { connections: st.connections, ports: st.ports, networkType: family === 6 ? 'ipv6' : 'ipv4' };
}

/** Run c/connstorm.c in the namespace (made by freshNetns with the shape's family) for `ms` and return what it reports. */
export function storm(ms: number, shape: StormShape, netns = NETNS): Promise<Storm> {
  const args = [benchBin('connstorm'), String(ms), String(shape.threads), String(STORM_ADDRESSES), shape.close, String(shape.family)];
  const child = spawn('ip', ['netns', 'exec', netns, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '',
    err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`connstorm exited with ${code}: ${err}`));
      try {
        resolve(JSON.parse(out) as Storm);
      } catch {
        reject(new Error(`connstorm: bad output ${out} ${err}`));
      }
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Wait (up to `maxMs`) until no other process has a program on the tracepoint — on a shared
 * machine another agent's probe would run in every storm's context — and return how many are left.
 */
async function quietTracepoint(mine: number[], maxMs: number): Promise<number> {
  const end = Date.now() + maxMs;
  let n = foreignTracers(mine);
  while (n > 0 && Date.now() < end) {
    await sleep(250);
    n = foreignTracers(mine);
  }
  return n;
}

export async function benchWorkload(o: WorkloadOptions, progress: (line: string) => void): Promise<Samples> {
  const s = new Samples();
  const sink = await SinkProcess.start();
  const conditions = o.conditions.length ? o.conditions : CONDITIONS;
  const v = o.variant;
  progress(`workload variant ${describeVariant(v)}, ${o.rounds} rounds`);
  try {
    for (let round = 0; round < o.rounds; round++) {
      const order = conditions.map((_, i) => conditions[(i + round) % conditions.length]);
      const rate: Partial<Record<Condition, number>> = {};
      const roundName = `round ${round + 1}/${o.rounds}`;
      for (const condition of order) {
        freshNetns(NETNS, v.family);
        const tracer = await startTracer(condition, sink);
        try {
          await sleep(o.settleMs);
          const mine = [process.pid, ...(tracer.pid ? [tracer.pid] : [])];
          const foreign0 = await quietTracepoint(mine, o.quietWaitMs);
          const cpu0 = tracer.pid ? processCpuNs(tracer.pid) : NaN;
          const st = await storm(o.stormMs, v);
          // Other processes' programs on the tracepoint run in the storm's context too: say when they were there.
          s.add('foreign_tracers', Math.max(foreign0, foreignTracers(mine)));
          const tracerCpu = tracer.pid ? processCpuNs(tracer.pid) - cpu0 : NaN;
          const r = await tracer.finish(seen(st, v.family));
          const perSec = (st.connections / st.wall_ns) * 1e9;
          rate[condition] = perSec;
          s.add(`${condition}.connections_per_s`, perSec);
          s.add(`${condition}.storm_cpu_ns_per_connection`, st.cpu_ns / st.connections);
          s.add(`${condition}.failures`, st.failures);
          if (condition !== 'none') {
            s.add(`${condition}.tracer_cpu_percent`, (tracerCpu / st.wall_ns) * 100);
            s.add(`${condition}.events`, r.events);
            s.add(`${condition}.events_per_connection`, r.events / st.connections);
            s.add(`${condition}.lost`, r.lost);
            s.add(`${condition}.peak_rss_mb`, r.peakRssBytes / 2 ** 20);
          }
          let missing = '';
          if (AGENT_CONDITIONS.includes(condition)) {
            s.add(`${condition}.cpu_ns_per_event`, tracerCpu / r.events);
            // Exact check: every connection of the storm counted once outbound and once inbound (of its family, on its ports).
            const missed = 2 * st.connections - (r.openedOutbound ?? 0) - (r.openedInbound ?? 0);
            s.add(`${condition}.missed_connections`, missed);
            missing = `, counted ${r.openedOutbound}/${r.openedInbound} of ${st.connections} (${missed} missing)`;
          }
          progress(
            `workload ${v.name} ${roundName} ${condition}: ${(perSec / 1e3).toFixed(1)} k conn/s` +
              (st.failures ? `, ${st.failures} failed` : '') +
              (condition === 'none' ? '' : `, tracer ${((tracerCpu / st.wall_ns) * 100).toFixed(0)} % CPU, ${r.events} events, ${r.lost} lost`) +
              missing,
          );
        } catch (e) {
          await tracer.finish({ connections: 0, ports: [], networkType: 'ipv4' }, { counts: false }).catch(() => undefined);
          throw e;
        } finally {
          removeNetns();
        }
      }
      // Slowdown within the round, against the bare run of the same round.
      for (const c of conditions) if (c !== 'none' && rate.none && rate[c]) s.add(`${c}.slowdown_percent`, (1 - rate[c] / rate.none) * 100);
      // The in-kernel cost once per round too (never during a measured storm), so that it has a median of the rounds.
      if (o.kernelCost) for (const c of conditions.filter((c) => AGENT_CONDITIONS.includes(c))) await kernelCost(c, o, sink, s, progress, roundName);
    }
  } finally {
    await sink.stop();
  }
  return s;
}
