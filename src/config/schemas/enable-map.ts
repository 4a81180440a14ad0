// `metrics:` / `events:` switches (mdatagen style): `<name>: {enabled: true|false}`.
import type convict from 'convict';
import type { EnableMap } from '../types';
import { validateNames, type NameKind } from '../names';
import type { Problem } from '../problems';
import { checkSection } from '../section';

const entrySchema: convict.Schema<{ enabled: boolean }> = {
  enabled: { doc: 'Whether this metric or event is produced.', format: 'nw.bool', default: null },
};

/**
 * Checks every entry (all problems, not the first) and the names against the catalogue hook;
 * `source` is the receiver type whose catalogue entries may be named.
 */
export function checkEnableMap(kind: NameKind, raw: Readonly<Record<string, unknown>>, path: string, problems: Problem[], source = 'connections'): EnableMap {
  const out: Record<string, { enabled: boolean }> = {};
  for (const [name, entry] of Object.entries(raw)) {
    const r = checkSection({ schema: entrySchema, expected: 'a mapping such as {enabled: false}' }, entry, `${path}.${name}`);
    problems.push(...r.problems);
    if (r.value) out[name] = { enabled: r.value.enabled };
  }
  for (const p of validateNames(kind, Object.keys(raw), source)) problems.push({ path: `${path}.${p.name}`, message: p.message });
  return out;
}
