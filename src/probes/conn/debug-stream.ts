// `netwatch events`: print the conn probe's event stream, one JSON line per event (debugging aid).
import { ConnProbe } from './probe';

export function streamConnEvents(opts: { ringBytes: number; seed: boolean; nowBootNs: () => number }, write: (line: string) => void): ConnProbe {
  const probe = new ConnProbe(
    { ringBytes: opts.ringBytes, pollIntervalMs: 10, seedExisting: opts.seed, nowBootNs: opts.nowBootNs },
    (ev) => write(JSON.stringify(ev, (_k, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v))),
  );
  probe.start();
  return probe;
}
