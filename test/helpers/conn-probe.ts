// Runs the real conn probe inside the test process and collects its events.
import type { ConnEvent } from '../../src/receivers/connections/event';
import { ConnProbe, type ConnProbeOptions } from '../../src/receivers/connections/probe';
import type { CountRow, TransitionRow } from '../../src/receivers/connections/tables';

export interface ProbeRun {
  probe: ConnProbe;
  events: ConnEvent[];
  /** Every counter row and transition count the kernel handed over so far. */
  rows: CountRow[];
  transitions: TransitionRow[];
  /** End the kernel's counting interval now: its rows land in `rows`. */
  collect(): void;
  /** Poll (draining the ring) until pred holds over the events, or fail after timeoutMs. */
  until(pred: (events: ConnEvent[]) => boolean, what: string, timeoutMs?: number): Promise<void>;
  stop(): void;
}

function bootNs(): number {
  // CLOCK_BOOTTIME ≈ /proc/uptime; precision is irrelevant for seeded test events.
  return Math.round(process.uptime() * 1e9);
}

/** Runs with a record per TCP transition (emitStates) unless told otherwise: the tests follow state sequences. */
export function runConnProbe(opts: Partial<ConnProbeOptions> = {}): ProbeRun {
  const events: ConnEvent[] = [];
  const rows: CountRow[] = [];
  const transitions: TransitionRow[] = [];
  const probe = new ConnProbe(
    { ringBytes: 1 << 22, pollIntervalMs: 5, seedExisting: false, nowBootNs: bootNs, emitStates: true, ...opts },
    (ev) => events.push(ev),
    {
      onCounts: (r, t) => {
        rows.push(...r);
        transitions.push(...t);
      },
    },
  );
  probe.start();
  return {
    probe,
    events,
    rows,
    transitions,
    collect: () => probe.rotateSync(),
    async until(pred, what, timeoutMs = 10_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        probe.drain();
        if (pred(events)) return;
        if (Date.now() > end) throw new Error(`timed out waiting for ${what} (${events.length} events collected)`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    stop: () => probe.stop(),
  };
}

/** Split one socket's events into lives: a socket address is reused after CLOSE. */
export function lifetimes(events: ConnEvent[], sock: bigint): ConnEvent[][] {
  const lives: ConnEvent[][] = [];
  let cur: ConnEvent[] = [];
  for (const e of events) {
    if (e.sock !== sock) continue;
    cur.push(e);
    if (e.kind === 'close') {
      lives.push(cur);
      cur = [];
    }
  }
  if (cur.length) lives.push(cur);
  return lives;
}

/** Sum of one counter over the rows that match. */
export function total(
  rows: readonly CountRow[],
  field: 'opened' | 'failed' | 'active' | 'bytesSent' | 'bytesReceived' | 'retransmits' | 'durationCount' | 'rttCount',
  match: (r: CountRow) => boolean,
): number {
  return rows.filter(match).reduce((a, r) => a + r[field], 0);
}
