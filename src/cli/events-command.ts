// `netwatch events`: the conn probe alone, its event stream as JSON lines (a debugging aid).
import { Command, Option } from 'commander';

export function eventsCommand(): Command {
  return new Command('events')
    .description('run only the connection probe and print every event as a JSON line (needs root)')
    .addOption(new Option('--ring-bytes <n>', 'ring buffer size in bytes (power of two)').default(1 << 22).argParser(Number))
    .option('--no-seed', 'do not report connections that exist at start')
    .action(async (opts: { ringBytes: number; seed: boolean }) => {
      // Imported here so that other commands never load libbpf.
      const { runEvents } = await import('./events');
      const { nowBootNs } = await import('../enrich/clock');
      runEvents({ ringBytes: opts.ringBytes, seed: opts.seed, nowBootNs });
    });
}
