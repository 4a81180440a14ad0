// Name lists with `*` wildcards compiled into one allocation-free predicate.

function compileGlob(pattern: string): (s: string) => boolean {
  const parts = pattern.split('*');
  // split always gives at least one part.
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  const middle = parts.slice(1, -1).filter((p) => p !== '');
  const minLength = parts.reduce((n, p) => n + p.length, 0);
  return (s) => {
    if (s.length < minLength || !s.startsWith(first) || !s.endsWith(last)) return false;
    let pos = first.length;
    const end = s.length - last.length;
    for (let k = 0; k < middle.length; k++) {
      const part = middle[k]!; // k < length
      const at = s.indexOf(part, pos);
      if (at < 0 || at + part.length > end) return false;
      pos = at + part.length;
    }
    return true;
  };
}

/** Exact names go in a Set; names with `*` become leftmost-first segment matchers (correct for `*`-only globs). */
export function compileNames(names: readonly string[]): (name: string) => boolean {
  const exact = new Set(names.filter((n) => !n.includes('*')));
  const globs = names.filter((n) => n.includes('*')).map(compileGlob);
  return (name) => {
    if (exact.has(name)) return true;
    for (let k = 0; k < globs.length; k++) if (globs[k]!(name)) return true; // k < length
    return false;
  };
}
