// Which metric and event names a receiver's `metrics:` / `events:` switches may name: the ones
// the catalogue (otel/catalogue.yaml, via the generated tables) gives that receiver.
import { EVENTS, METRICS, RENAMED } from '../catalogue/generated';

export type NameKind = 'metrics' | 'events';

export interface NameProblem {
  name: string;
  message: string;
}

/** One problem per name that the catalogue does not list for `source` (a receiver type). */
export function validateNames(kind: NameKind, names: readonly string[], source = 'connections'): NameProblem[] {
  const table: Readonly<Record<string, { source: string }>> = kind === 'metrics' ? METRICS : EVENTS;
  const known = Object.keys(table).filter((n) => table[n]!.source === source); // n is a key of table
  const noun = kind === 'metrics' ? 'metric' : 'log event';
  const renamedKind = kind === 'metrics' ? 'metric' : 'event';
  return names
    .filter((n) => !known.includes(n))
    .map((name) => {
      // A name an earlier version emitted: say what replaced it rather than only listing the current ones.
      const r = RENAMED.find((x) => x.kind === renamedKind && x.name === name);
      if (r) return { name, message: `${noun} "${name}" is no longer emitted: ${r.replacedBy ? `use ${r.replacedBy}; ` : ''}${r.note}` };
      return { name, message: `unknown ${noun} "${name}" for this receiver (known: ${known.join(', ')})` };
    });
}
