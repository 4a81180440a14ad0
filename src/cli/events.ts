// `netwatch events`: run the conn probe alone and print its event stream, one JSON line per event.
// A debugging aid: no config, no exporters; SIGTERM/SIGINT detach everything and exit 0.
import { ConnProbe } from '../receivers/connections/probe';
import { stopOnSignals } from '../kernel/lifecycle';
import { rootLogger } from '../log';

export interface EventsOptions {
  ringBytes: number;
  seed: boolean;
  nowBootNs: () => number;
  write?: (line: string) => void;
}

export function runEvents(opts: EventsOptions): ConnProbe {
  const write = opts.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const probe = new ConnProbe({ ringBytes: opts.ringBytes, pollIntervalMs: 10, seedExisting: opts.seed, nowBootNs: opts.nowBootNs }, (ev) =>
    write(JSON.stringify(ev, (_k, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v))),
  );
  probe.start();
  // Handlers before the announcement: a signal sent as soon as it is read must find them.
  stopOnSignals(() => probe.stop());
  rootLogger.info('conn probe attached; printing one JSON line per event');
  return probe;
}
