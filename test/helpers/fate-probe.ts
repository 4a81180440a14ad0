// Runs the real packet_fate probe inside the test process and collects its counts and samples.
import type { FateCount, FateSample } from '../../src/receivers/packet_fate/event';
import { PacketFateProbe, type PacketFateProbeOptions } from '../../src/receivers/packet_fate/probe';

export interface EpochCount extends FateCount {
  epoch: number;
}

export interface FateRun {
  probe: PacketFateProbe;
  counts: EpochCount[];
  samples: FateSample[];
  /** End the interval now and drain the ring: everything so far is in counts and samples. */
  flush(): void;
  /** Sum of the counts matching pred, from counts[since] on. */
  sum(pred: (c: EpochCount) => boolean, since?: number): number;
  /** Flush until pred holds (or fail after timeoutMs), then once more after settleMs, so late events are counted too. */
  until(pred: () => boolean, what: string, timeoutMs?: number, settleMs?: number): Promise<void>;
  /**
   * Keep only the samples of these network namespaces (the test's own); other traffic on the
   * machine is sampled too, and storing all of it would only cost memory. Default: keep all.
   */
  watchNetns(...inodes: number[]): void;
  /** Rotate the tables every ms milliseconds in the background (0 stops it). */
  rotateEvery(ms: number): void;
  stop(): void;
}

const ALL = ['drop', 'reset_sent', 'reset_received', 'retransmit'] as const;

export function runFateProbe(opts: Partial<PacketFateProbeOptions> = {}): FateRun {
  const counts: EpochCount[] = [];
  const samples: FateSample[] = [];
  let watched: Set<number> | null = null;
  const probe = new PacketFateProbe(
    {
      ringBytes: 1 << 20,
      pollIntervalMs: 10,
      tableSize: 4096,
      sampleLimit: 50,
      kinds: new Set(ALL),
      sampledKinds: new Set(ALL),
      ignoreReasons: ['NOT_SPECIFIED'],
      ...opts,
    },
    {
      onSample: (s) => {
        if (!watched || watched.has(s.netns)) samples.push(s);
      },
      onCounts: (rows, epoch) => {
        for (const r of rows) counts.push({ ...r, epoch });
      },
    },
  );
  probe.start();
  let timer: NodeJS.Timeout | null = null;
  const run: FateRun = {
    probe,
    counts,
    samples,
    flush() {
      probe.rotateSync();
      probe.drain();
    },
    sum(pred, since = 0) {
      let n = 0;
      for (let i = since; i < counts.length; i++) if (pred(counts[i])) n += counts[i].count;
      return n;
    },
    async until(pred, what, timeoutMs = 10_000, settleMs = 200) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        run.flush();
        if (pred()) break;
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      await new Promise((r) => setTimeout(r, settleMs));
      run.flush();
    },
    watchNetns(...inodes) {
      watched ??= new Set();
      for (const i of inodes) watched.add(i);
    },
    rotateEvery(ms) {
      if (timer) clearInterval(timer);
      timer = ms > 0 ? setInterval(() => void probe.rotate(), ms) : null;
    },
    stop() {
      run.rotateEvery(0);
      probe.stop();
    },
  };
  return run;
}
