// Where the cluster's sleep lives in Nomad Variables: one variable per node holding its activity
// per group, one lock variable per group. Nomad takes only [a-zA-Z0-9-_~/] in a path, at most 128
// characters (nomad/structs/variables.go validVariablePath), so names are escaped into segments:
// any other byte (and "~" itself) becomes ~XX, its UTF-8 hex, which keeps them readable and
// distinct ("web.1" → "web~2E1"); a path that still comes out too long ends in a hash instead.
import { createHash } from 'node:crypto';
import type { Target } from './target';

/** A group's item in a node's activity variable. */
export const ACTIVE = 'active';
export const IDLE = 'idle';
/** The item naming the agent host behind a node's variable (for whoever reads it in Nomad's UI); never a group's key, which has a "/". */
export const HOST_ITEM = 'netwatch.agent.host';

const MAX_PATH = 128;
const SAFE = /^[a-zA-Z0-9_-]$/;

/** One path segment: safe characters as they are, every other UTF-8 byte (and "~") as ~XX. */
export function segment(name: string): string {
  let out = '';
  for (const ch of name) {
    if (SAFE.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `~${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out === '' ? '~' : out; // an empty name still needs a segment; "~" alone is no escape
}

/** `<base>/<segments>`, or `<base>/~h<sha256>` when that is longer than Nomad takes (config keeps `base` short enough). */
function below(base: string, segments: readonly string[]): string {
  const p = `${base}/${segments.join('/')}`;
  if (p.length <= MAX_PATH) return p;
  return `${base}/~h${createHash('sha256').update(segments.join('/')).digest('hex').slice(0, 40)}`;
}

/** The variable holding `node`'s activity. */
export const activityPath = (prefix: string, node: string): string => below(prefix, [segment(node)]);

/** The variable whose lock the sleeper of `t` holds. */
export const lockPath = (base: string, t: Pick<Target, 'namespace' | 'job' | 'group'>): string =>
  below(base, [segment(t.namespace), segment(t.job), segment(t.group)]);

/** The item key of `t` in a node's activity: <namespace>/<job>/<group>, escaped as segments. */
export const itemKey = (t: Pick<Target, 'namespace' | 'job' | 'group'>): string => `${segment(t.namespace)}/${segment(t.job)}/${segment(t.group)}`;
