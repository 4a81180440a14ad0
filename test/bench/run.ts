// `npm run bench`: every part of the benchmark in one run — the reader, the pipeline, the workload
// cost — a table per part on stdout, results.json and results.md next to this file. Each figure is
// the median of several runs, with the min and max. See README.md in this folder for how to read it.
import { Command, Option } from 'commander';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { describeMachine } from './machine';
import { BENCH_SRC, buildNative } from './paths';
import { benchPipeline } from './pipeline';
import { PIPELINE_VARIANTS, type PipelineVariant } from './pipeline-worker';
import { runNomadWakeBench } from './nomad-wake';
import { runFirstClientBench } from './first-client';
import { benchReader } from './reader';
import { figures, FIRST_CLIENT_PLACEMENT_MS, header, markdown, sections, textTable, type Figures, type Part, type Results } from './report';
import { Samples } from './stats';
import { CONDITIONS, type Condition } from './tracers';
import { benchWorkload } from './workload';
import {
  CLOSE_MODES,
  type CloseMode,
  DEFAULT_SHAPE,
  type Family,
  FAMILIES,
  NAMED_WORKLOAD_VARIANTS,
  parseWorkloadVariant,
  variantName,
  type WorkloadVariant,
} from './workload-variants';

const PARTS: readonly Part[] = ['reader', 'pipeline', 'workload', 'nomad'];
const int = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`not a whole number: ${v}`);
  return n;
};
const list =
  <T extends string>(allowed: readonly T[]) =>
  (v: string): T[] => {
    const items = v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    for (const i of items) if (!allowed.includes(i as T)) throw new Error(`${i} is not one of ${allowed.join(', ')}`);
    return items as T[];
  };
const oneOf =
  <T extends string | number>(allowed: readonly T[]) =>
  (v: string): T => {
    const found = allowed.find((a) => String(a) === v);
    if (found === undefined) throw new Error(`${v} is not one of ${allowed.join(', ')}`);
    return found;
  };
/** --variants names pipeline variants and workload variants alike: each part takes its own. */
const variantList = (v: string): string[] => {
  const items = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const i of items) {
    if (!PIPELINE_VARIANTS.includes(i as PipelineVariant) && !parseWorkloadVariant(i)) {
      throw new Error(
        `${i} is neither a pipeline variant (${PIPELINE_VARIANTS.join(', ')}) nor a workload one (${NAMED_WORKLOAD_VARIANTS.join(', ')}, or fin|rst, ipv4|ipv6, threadsN joined with +)`,
      );
    }
  }
  return items;
};

export interface BenchOptions {
  parts: Part[];
  runs: number;
  rounds: number;
  ringMib: number;
  recordSize: number;
  recordsPerHit: number;
  fills: number;
  liveMs: number;
  wakeupBytes: number;
  pipelineMs: number;
  pipelineRingMib: number;
  /** Pipeline and workload variants as given (variantList); splitVariants() hands each part its own. */
  variants: string[];
  stormMs: number;
  threads: number;
  close: CloseMode;
  family: Family;
  conditions: Condition[];
  settleMs: number;
  kernelCost: boolean;
  quietWaitMs: number;
  wakes: number;
  write: boolean;
  quick: boolean;
}

export function program(): Command {
  return new Command('bench')
    .description('netwatch benchmarks: reader vs libbpf, pipeline throughput, workload cost vs tcpstates and bpftrace')
    .addOption(new Option('--parts <list>', `parts to run (${PARTS.join(',')})`).argParser(list(PARTS)).default([...PARTS]))
    .option('--quick', 'short runs to check that everything works (2 runs, short durations)', false)
    .option('--runs <n>', 'repetitions of the reader and pipeline parts', int, 5)
    .option('--rounds <n>', 'rounds of the workload part (every condition once per round, order rotating)', int, 5)
    .option('--ring-mib <n>', 'reader: ring size in MiB', int, 16)
    .option('--record-size <bytes>', 'reader: record size (default: a conn probe record)', int, 136)
    .option('--records-per-hit <n>', 'reader: records the generator emits per syscall', int, 16)
    .option('--fills <n>', 'reader: fill-and-drain cycles per run and consumer', int, 10)
    .option('--live-ms <ms>', 'reader: length of each live run', int, 2000)
    .option('--wakeup-bytes <n>', "reader: the generator's wakeup_bytes, as the probes' (0 = adaptive)", int, 0)
    .option('--pipeline-ms <ms>', 'pipeline: length of each run', int, 5000)
    .option('--pipeline-ring-mib <n>', 'pipeline: MiB of records replayed (the default ring size is 4)', int, 4)
    .addOption(
      new Option(
        '--variants <list>',
        `pipeline variants (${PIPELINE_VARIANTS.join(',')}; default all) and workload variants (${NAMED_WORKLOAD_VARIANTS.join(',')}, ` +
          'or fin|rst, ipv4|ipv6, threadsN joined with +; default the one --close, --family and --threads give): each part runs those of its own',
      )
        .argParser(variantList)
        .default([]),
    )
    .option('--storm-ms <ms>', 'workload: length of each storm', int, 5000)
    .option('--threads <n>', 'workload: storm threads (each connects and accepts)', int, DEFAULT_SHAPE.threads)
    .addOption(
      new Option('--close <mode>', 'workload: how the storm closes its client sockets, fin or rst (SO_LINGER 0)')
        .argParser(oneOf(CLOSE_MODES))
        .default(DEFAULT_SHAPE.close),
    )
    .addOption(new Option('--family <n>', 'workload: IPv4 or IPv6 loopback storm (4 or 6)').argParser(oneOf(FAMILIES)).default(DEFAULT_SHAPE.family))
    .addOption(new Option('--conditions <list>', `workload conditions (${CONDITIONS.join(',')})`).argParser(list(CONDITIONS)).default([...CONDITIONS]))
    .option('--settle-ms <ms>', 'workload: pause between a tracer attaching and the storm', int, 500)
    .option('--quiet-wait-ms <ms>', "workload: wait up to this long before a storm for other processes' programs to leave the tracepoint", int, 20000)
    .option('--wakes <n>', 'nomad: wakes per run and mode', int, 1000)
    .option('--no-kernel-cost', 'workload: skip the extra storm per round and agent condition with BPF run-time statistics on')
    .option('--no-write', 'do not write results.json and results.md');
}

/** --quick shortens whatever was not given explicitly. */
function applyQuick(o: BenchOptions, cmd: Command): void {
  if (!o.quick) return;
  const short: Partial<BenchOptions> = {
    runs: 2,
    rounds: 2,
    fills: 3,
    liveMs: 500,
    pipelineMs: 1500,
    stormMs: 1500,
    settleMs: 300,
    quietWaitMs: 5000,
    wakes: 200,
  };
  for (const [k, v] of Object.entries(short)) if (cmd.getOptionValueSource(k) === 'default') (o as unknown as Record<string, unknown>)[k] = v;
}

/**
 * Each part's variants: the pipeline's named in --variants (all when none is); the workload's
 * named there, else the one --close, --family and --threads describe (not both ways at once).
 */
export function splitVariants(o: BenchOptions, cmd: Command): { pipeline: PipelineVariant[]; workload: WorkloadVariant[] } {
  const pipeline = o.variants.filter((v): v is PipelineVariant => PIPELINE_VARIANTS.includes(v as PipelineVariant));
  const workload: WorkloadVariant[] = [];
  for (const name of o.variants) {
    const v = PIPELINE_VARIANTS.includes(name as PipelineVariant) ? undefined : parseWorkloadVariant(name);
    if (v && !workload.some((w) => w.name === v.name)) workload.push(v);
  }
  if (workload.length) {
    const given = (['threads', 'close', 'family'] as const).filter((k) => cmd.getOptionValueSource(k) === 'cli');
    if (given.length) throw new Error(`--${given.join(', --')}: give the workload's storm either by --variants or by --close, --family and --threads`);
  } else {
    const shape = { threads: o.threads, close: o.close, family: o.family };
    workload.push({ name: variantName(shape), ...shape });
  }
  return { pipeline: pipeline.length ? pipeline : [...PIPELINE_VARIANTS], workload };
}

async function main(argv: string[]): Promise<void> {
  const cmd = program().parse(argv);
  const o = cmd.opts<BenchOptions>();
  applyQuick(o, cmd);
  const variants = splitVariants(o, cmd);
  const progress = (line: string) => process.stderr.write(`  ${line}\n`);
  buildNative();
  const machine = describeMachine();
  const options: Record<string, unknown> = { ...o, variants: variants.pipeline, workloadVariants: variants.workload.map((v) => v.name) };
  delete options.write;
  delete options.threads; // in the workload variants
  delete options.close;
  delete options.family;
  const results: Results = { machine, options, parts: {} };
  const started = Date.now();
  for (const part of o.parts) {
    progress(`${part}…`);
    let samples: Samples;
    switch (part) {
      case 'reader':
        samples = await benchReader(
          {
            runs: o.runs,
            ringBytes: o.ringMib << 20,
            recordSize: o.recordSize,
            recordsPerHit: o.recordsPerHit,
            fills: o.fills,
            liveMs: o.liveMs,
            wakeupBytes: o.wakeupBytes,
          },
          progress,
        );
        break;
      case 'pipeline':
        samples = await benchPipeline({ runs: o.runs, durationMs: o.pipelineMs, ringBytes: o.pipelineRingMib << 20, variants: variants.pipeline }, progress);
        break;
      case 'workload': {
        // Each variant's rounds one after another, each reported on its own.
        const byVariant: Record<string, Figures> = {};
        for (const variant of variants.workload) {
          const s = await benchWorkload(
            {
              rounds: o.rounds,
              stormMs: o.stormMs,
              variant,
              conditions: o.conditions,
              settleMs: o.settleMs,
              kernelCost: o.kernelCost,
              quietWaitMs: o.quietWaitMs,
            },
            progress,
          );
          byVariant[variant.name] = figures('workload', s);
        }
        results.parts.workload = byVariant;
        continue;
      }
      case 'nomad':
        samples = await benchNomad(o.runs, o.wakes, progress);
        break;
    }
    results.parts[part] = figures(part, samples);
  }
  machine.loadEnd = loadavg()[0];
  const out = [...header(machine, options), `took ${Math.round((Date.now() - started) / 1000)} s`, ''];
  for (const section of sections(results)) out.push(textTable(section), '');
  process.stdout.write(out.join('\n'));
  if (o.write) {
    writeFileSync(join(BENCH_SRC, 'results.json'), JSON.stringify(results, null, 2) + '\n');
    writeFileSync(join(BENCH_SRC, 'results.md'), markdown(results));
    progress(`wrote ${join(BENCH_SRC, 'results.json')} and results.md`);
  }
}

/** The wake latency, synthetic and through the kernel, `runs` times each (interleaved). */
async function benchNomad(runs: number, wakes: number, progress: (line: string) => void): Promise<Samples> {
  const samples = new Samples();
  for (let i = 0; i < runs; i++) {
    for (const kernel of [false, true]) {
      const r = await runNomadWakeBench({ wakes, kernel });
      samples.add(`${r.mode}.p50_ms`, r.p50);
      samples.add(`${r.mode}.p99_ms`, r.p99);
      progress(`nomad run ${i + 1}/${runs} ${r.mode}: p50 ${r.p50.toFixed(3)} ms, p99 ${r.p99.toFixed(3)} ms`);
    }
  }
  for (const hold of [true, false]) {
    const key = hold ? 'hold' : 'no_hold';
    for (const r of await runFirstClientBench({ hold, placements: [FIRST_CLIENT_PLACEMENT_MS], runs })) {
      samples.add(`first_client.${key}.answered`, r.code === 0 ? 1 : 0);
      if (r.ttfbMs !== undefined) samples.add(`first_client.${key}.ttfb_ms`, r.ttfbMs);
      progress(`first client, ${hold ? 'hold_syn' : 'no hold'}: ${r.ttfbMs === undefined ? `curl exit ${r.code}` : `${r.ttfbMs.toFixed(0)} ms to first byte`}`);
    }
  }
  return samples;
}

if (require.main === module) {
  main(process.argv).catch((e: Error) => {
    process.stderr.write(`bench failed: ${e.stack ?? e.message}\n`);
    process.exit(1);
  });
}
