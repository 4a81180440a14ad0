// Server-name lists of nomad_autostart rules: exact names, and `*.suffix` wildcards that match any
// name below the suffix (one label or more, as nginx's server_name does), never the suffix itself.

export interface CompiledNames {
  readonly exact: readonly string[];
  /** Suffixes with their leading dot, e.g. `.app.example.com`. */
  readonly suffixes: readonly string[];
}

/** Names are lower case already (the config loader lowers them, the ClientHello parser too). */
export function compileServerNames(names: readonly string[]): CompiledNames {
  return {
    exact: names.filter((n) => !n.startsWith('*.')),
    suffixes: names.filter((n) => n.startsWith('*.')).map((n) => n.slice(1)),
  };
}

export function matchesSuffix(name: string, suffixes: readonly string[]): boolean {
  for (let k = 0; k < suffixes.length; k++) {
    const s = suffixes[k]!; // k < length
    if (name.length > s.length && name.endsWith(s)) return true;
  }
  return false;
}
