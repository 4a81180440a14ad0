// One thing wrong in agent.yaml, located by its key path, and the helpers that word messages.

export interface Problem {
  /** Key path in the collector's style, e.g. `receivers.connections.ring_buffer_size`, `processors.filter.exclude[0].cidrs`. */
  readonly path: string;
  readonly message: string;
}

export const problemText = (p: Problem): string => (p.path ? `${p.path}: ${p.message}` : p.message);

export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return base ? `${base}.${key}` : key;
}

export function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}

/** A value as a message shows it: strings quoted, containers by kind (they can be long, or secret). */
export function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v.length > 80 ? `${v.slice(0, 77)}...` : v);
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- objects returned above: numbers, booleans and the like print as themselves
  return String(v);
}

/** Levenshtein distance (the classic two-row dynamic programme). */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      // prev has b.length + 1 entries and cur is filled left to right: every index is in range.
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** The closest candidate when it is plausibly a typo of `word`. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return bestD <= Math.max(1, Math.floor(word.length / 4)) ? best : undefined;
}

export function unknownKeyMessage(key: string, known: readonly string[], hint?: string): string {
  const close = suggest(key, known);
  let msg = 'unknown key';
  if (close) msg += ` (did you mean "${close}"?)`;
  if (hint) msg += `; ${hint}`;
  return `${msg}; valid keys here: ${known.join(', ')}`;
}

export const list = (items: readonly string[]): string => items.join(', ');
