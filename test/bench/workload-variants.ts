// The shapes of the workload part's connection storm (c/connstorm.c): how the client closes, the
// address family, the thread count — and the variants issue 14 item 8 names, each a shape. A
// variant's name says how it differs from the defaults: `defaults`, `rst`, `ipv6`, `threads2`, and
// combinations joined with `+` (`rst+ipv6`), so a name is enough to rebuild its shape.

export const CLOSE_MODES = ['fin', 'rst'] as const;
/** `fin`: the client closes first with a FIN; `rst`: SO_LINGER {on, 0} so its close sends an RST. */
export type CloseMode = (typeof CLOSE_MODES)[number];
export const FAMILIES = [4, 6] as const;
export type Family = (typeof FAMILIES)[number];

export interface StormShape {
  threads: number;
  close: CloseMode;
  family: Family;
}

export interface WorkloadVariant extends StormShape {
  name: string;
}

export const DEFAULT_SHAPE: Readonly<StormShape> = { threads: 1, close: 'fin', family: 4 };
/** The variants issue 14 item 8 asks for, in the order they are run. */
export const NAMED_WORKLOAD_VARIANTS = ['defaults', 'rst', 'ipv6', 'threads2'] as const;

/** The name of a shape: `defaults`, or what differs from them joined with `+`. */
export function variantName(s: StormShape): string {
  const parts: string[] = [];
  if (s.close !== DEFAULT_SHAPE.close) parts.push(s.close);
  if (s.family !== DEFAULT_SHAPE.family) parts.push(`ipv${s.family}`);
  if (s.threads !== DEFAULT_SHAPE.threads) parts.push(`threads${s.threads}`);
  return parts.length ? parts.join('+') : 'defaults';
}

/**
 * The variant a name stands for, under its canonical name (`ipv6+rst` is `rst+ipv6`), or undefined
 * when it names none (`metrics` is a pipeline variant).
 */
export function parseWorkloadVariant(name: string): WorkloadVariant | undefined {
  const shape: StormShape = { ...DEFAULT_SHAPE };
  for (const token of name.split('+')) {
    const threads = /^threads([1-9]\d*)$/.exec(token);
    if (token === 'defaults') continue;
    else if (token === 'fin' || token === 'rst') shape.close = token;
    else if (token === 'ipv4' || token === 'ipv6') shape.family = token === 'ipv4' ? 4 : 6;
    else if (threads) shape.threads = Number(threads[1]);
    else return undefined;
  }
  return { name: variantName(shape), ...shape };
}

/** For titles and progress lines: `rst (RST close, IPv4, 1 thread)`. */
export function describeVariant(v: WorkloadVariant): string {
  return `${v.name} (${v.close.toUpperCase()} close, IPv${v.family}, ${v.threads} thread${v.threads === 1 ? '' : 's'})`;
}
