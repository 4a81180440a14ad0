// Part 1, the reader: the agent's RingBufferReader against libbpf's ring_buffer__consume on the
// same ring, fed by the same kernel producer (bpf/ringgen.bpf.c) — from a pre-filled ring
// (consumer only) and live, with the producer running flat out on the other core, once with the
// kernel's adaptive wakeups (wakeup_bytes 0, the probes' default) and once with batched ones (a quarter of the ring).
import { RingBufferReader } from '../../src/kernel/ringbuf';
import { LineChild } from './children';
import { runQueueWaitNs, selfCpuNs } from './cpu';
import { benchBin } from './paths';
import { Ringgen } from './ringgen';
import { Samples } from './stats';

export interface ReaderOptions {
  runs: number;
  ringBytes: number;
  recordSize: number;
  recordsPerHit: number;
  /** Fill-and-drain cycles per run and consumer (after WARMUP_FILLS not counted). */
  fills: number;
  /** Length of each live run. */
  liveMs: number;
  /** The generator's wakeup_bytes for the drain and the first live runs (0: the probes' default). */
  wakeupBytes: number;
}

type Consumer = 'js' | 'c';
const CONSUMERS: readonly Consumer[] = ['js', 'c'];
/** Fill-and-drain cycles per consumer not counted. */
const WARMUP_FILLS = 3;

interface Totals {
  records: number;
  wallNs: number;
  cpuNs: number;
}
const zero = (): Totals => ({ records: 0, wallNs: 0, cpuNs: 0 });
const hrNs = (): number => Number(process.hrtime.bigint());

/** Problems that make a run's figures wrong rather than slow: reported, never hidden. */
export class ReaderCheckError extends Error {}

/** The producer process, a generator object for it, and the C consumer on that generator's ring. */
interface Rig {
  prod: LineChild;
  gen: Ringgen;
  drainer: LineChild;
}

async function rig(o: ReaderOptions, prod: LineChild, pid: number, wakeupBytes: number): Promise<Rig> {
  const gen = Ringgen.load({ targetPid: pid, ringBytes: o.ringBytes, recordSize: o.recordSize, recordsPerHit: o.recordsPerHit, wakeupBytes });
  const drainer = LineChild.start('ringdrain', benchBin('ringdrain'), [], { fds: [gen.ring.fd] });
  try {
    await drainer.ready;
  } catch (e) {
    gen.close();
    throw e;
  }
  return { prod, gen, drainer };
}

async function unrig(r: Rig): Promise<void> {
  await r.drainer.stop();
  r.gen.close();
}

/** Fill the empty ring, drain it with each consumer in turn; totals per consumer and for the producer. */
async function drains(
  o: ReaderOptions,
  { prod, gen, drainer }: Rig,
  js: RingBufferReader,
  count: () => number,
): Promise<Record<Consumer | 'producer', Totals>> {
  // Whole bursts that fit in the empty ring: a fill never drops.
  const calls = Math.floor(gen.capacity / o.recordsPerHit) - 1;
  const perFill = calls * o.recordsPerHit;
  const out = { js: zero(), c: zero(), producer: zero() };
  for (let f = 0; f < WARMUP_FILLS + o.fills; f++) {
    for (const who of f % 2 ? [...CONSUMERS].reverse() : CONSUMERS) {
      const lost0 = gen.lost();
      const p = await prod.request(`calls ${calls}`);
      if (gen.lost() !== lost0) throw new ReaderCheckError(`filling an empty ring of ${gen.capacity} records with ${perFill} dropped ${gen.lost() - lost0}`);
      let t: Totals;
      if (who === 'js') {
        const before = count();
        const c0 = selfCpuNs(),
          w0 = hrNs();
        js.drain();
        t = { records: count() - before, wallNs: hrNs() - w0, cpuNs: selfCpuNs() - c0 };
      } else {
        const a = await drainer.request('drain');
        t = { records: a.records as number, wallNs: a.wall_ns as number, cpuNs: a.cpu_ns as number };
      }
      if (t.records !== perFill) throw new ReaderCheckError(`${who} drained ${t.records} records of a ring filled with ${perFill}`);
      if (f < WARMUP_FILLS) continue; // page faults, and the JIT's tiers reaching the drain loop
      add(out[who], t);
      add(out.producer, { records: perFill, wallNs: p.wall_ns as number, cpuNs: p.cpu_ns as number });
    }
  }
  return out;
}

interface Live extends Totals {
  emitted: number;
  producerWallNs: number;
  lost: number;
  /** The reader's thread, runnable but waiting for a CPU (other processes on the machine). */
  waitedNs: number;
}

/** The producer flat out for liveMs while one consumer reads as it would in production (woken by the ring). */
async function live(o: ReaderOptions, { prod, gen, drainer }: Rig, who: Consumer): Promise<Live> {
  const lost0 = gen.lost();
  const thread = who === 'js' ? 'self' : drainer.pid;
  const wait0 = runQueueWaitNs(thread);
  let t: Totals;
  let p;
  if (who === 'js') {
    let n = 0;
    const reader = new RingBufferReader(gen.ring, { onBatch: (b) => (n += b.count) });
    const c0 = selfCpuNs(),
      w0 = hrNs();
    reader.start();
    p = await prod.request(`run ${o.liveMs}`);
    reader.close(); // drains what is left
    t = { records: n, wallNs: hrNs() - w0, cpuNs: selfCpuNs() - c0 };
  } else {
    await drainer.request('live');
    p = await prod.request(`run ${o.liveMs}`);
    const a = await drainer.request('stop');
    t = { records: a.records as number, wallNs: a.wall_ns as number, cpuNs: a.cpu_ns as number };
  }
  const waitedNs = runQueueWaitNs(thread) - wait0;
  const lost = gen.lost() - lost0;
  const emitted = (p.calls as number) * o.recordsPerHit;
  if (t.records + lost !== emitted) throw new ReaderCheckError(`${who} live: ${t.records} read + ${lost} lost != ${emitted} emitted`);
  return { ...t, emitted, producerWallNs: p.wall_ns as number, lost, waitedNs };
}

function addLive(s: Samples, prefix: string, l: Live): void {
  s.add(`${prefix}.producer_events_per_s`, (l.emitted / l.producerWallNs) * 1e9);
  s.add(`${prefix}.events_per_s`, (l.records / l.wallNs) * 1e9);
  s.add(`${prefix}.cpu_ns_per_event`, l.cpuNs / l.records);
  s.add(`${prefix}.cpu_percent`, (l.cpuNs / l.wallNs) * 100);
  s.add(`${prefix}.lost`, l.lost);
  s.add(`${prefix}.waited_percent`, (l.waitedNs / l.wallNs) * 100);
}

export async function benchReader(o: ReaderOptions, progress: (line: string) => void): Promise<Samples> {
  const s = new Samples();
  const batchedBytes = o.ringBytes / 4;
  for (let run = 0; run < o.runs; run++) {
    const prod = LineChild.start('ringprod', benchBin('ringprod'));
    try {
      const pid = (await prod.ready).pid as number;
      const last = (k: string) => s.summary(k).runs.at(-1)!;
      // Default wakeups: drains, then live.
      let r = await rig(o, prod, pid, o.wakeupBytes);
      let jsCount = 0;
      const js = new RingBufferReader(r.gen.ring, { onBatch: (b) => (jsCount += b.count) });
      try {
        const d = await drains(o, r, js, () => jsCount);
        s.add('producer.fill.events_per_s', (d.producer.records / d.producer.wallNs) * 1e9);
        for (const who of CONSUMERS) {
          s.add(`drain.${who}.events_per_s`, (d[who].records / d[who].wallNs) * 1e9);
          s.add(`drain.${who}.cpu_ns_per_event`, d[who].cpuNs / d[who].records);
        }
        s.add('drain.ratio', d.js.records / d.js.wallNs / (d.c.records / d.c.wallNs));
        // The same ratio from CPU time, which preemption by other processes does not inflate.
        s.add('drain.cpu_ratio', d.c.cpuNs / d.c.records / (d.js.cpuNs / d.js.records));
        const rate: Partial<Record<Consumer, number>> = {};
        const cpu: Partial<Record<Consumer, number>> = {};
        for (const who of run % 2 ? [...CONSUMERS].reverse() : CONSUMERS) {
          const l = await live(o, r, who);
          addLive(s, `live.${who}`, l);
          rate[who] = l.records / l.wallNs;
          cpu[who] = l.cpuNs / l.records;
        }
        s.add('live.ratio', rate.js! / rate.c!);
        s.add('live.cpu_ratio', cpu.c! / cpu.js!);
        // Keeping up with the producer flat out: what the JS reader read live, against the producer's fill rate.
        s.add('live.js.of_ceiling', (rate.js! * 1e9) / last('producer.fill.events_per_s'));
      } finally {
        js.close();
        await unrig(r);
      }
      // Batched wakeups: the same live runs on a generator with wakeup_bytes set.
      r = await rig(o, prod, pid, batchedBytes);
      try {
        for (const who of run % 2 ? [...CONSUMERS].reverse() : CONSUMERS) addLive(s, `batched.${who}`, await live(o, r, who));
      } finally {
        await unrig(r);
      }
      progress(
        `reader run ${run + 1}/${o.runs}: producer alone ${fmtM(last('producer.fill.events_per_s'))}; drain js ${fmtM(last('drain.js.events_per_s'))} c ${fmtM(last('drain.c.events_per_s'))}; ` +
          `live js ${fmtM(last('live.js.events_per_s'))} (lost ${last('live.js.lost')}) c ${fmtM(last('live.c.events_per_s'))} (lost ${last('live.c.lost')}); ` +
          `batched js ${fmtM(last('batched.js.events_per_s'))} (lost ${last('batched.js.lost')}) c ${fmtM(last('batched.c.events_per_s'))} (lost ${last('batched.c.lost')})`,
      );
    } finally {
      await prod.stop();
    }
  }
  return s;
}

function add(t: Totals, d: Totals): void {
  t.records += d.records;
  t.wallNs += d.wallNs;
  t.cpuNs += d.cpuNs;
}

const fmtM = (perSec: number): string => `${(perSec / 1e6).toFixed(2)} M/s`;
