// Hook: which metric and event names a receiver's `metrics:` / `events:` switches may name.

export type NameKind = 'metrics' | 'events';

export interface NameProblem {
  name: string;
  message: string;
}

/**
 * Returns one problem per name that is not in the catalogue (otel/catalogue.yaml).
 * TODO(lead): wire to the generated catalogue, e.g.
 *   `const known = kind === 'metrics' ? METRIC_NAMES : EVENT_NAMES;`
 *   `return names.filter((n) => !known.includes(n)).map((name) => ({ name, message: unknownNameMessage(kind, name, known) }));`
 * Until then every name is accepted (the `{enabled: bool}` shape is still checked by the schema).
 */
export function validateNames(kind: NameKind, names: readonly string[]): NameProblem[] {
  void kind;
  void names;
  return [];
}
