// Checks one mapping of agent.yaml against one convict schema, strictly, and returns every
// problem with its full key path instead of convict's single thrown Error.
import convict from 'convict';
import { formatProblem, policyOf, registerFormats } from './formats';
import { describe, isMapping, joinPath, unknownKeyMessage, type Problem } from './problems';
import { TypedText } from './typed-text';

/** A convict schema plus what the loader needs to word messages about defaults that came from OTEL_* variables. */
export interface SchemaSpec<S> {
  schema: convict.Schema<S>;
  /** Setting (relative dotted path) → the env var its default came from, to say so when that default is invalid. */
  origins?: Readonly<Record<string, string>>;
  /** Setting → problem with the env var meant to supply its default; reported only when the file does not set it. */
  envProblems?: Readonly<Record<string, string>>;
  /** Unknown key → a hint for collector users (e.g. prometheus `endpoint` → host and port). */
  hints?: Readonly<Record<string, string>>;
  /** How to describe the mapping when something else is given (default: "a mapping"). */
  expected?: string;
}

export interface Checked<S> {
  /**
   * The settings with defaults applied, and invalid settings put back to their defaults so that
   * nested checks (rules, per-metric switches) still run and report; undefined only when the
   * section was not a mapping at all. Use it as config only when `problems` is empty.
   */
  value: S | undefined;
  problems: Problem[];
  /** Relative paths of the leaves the file set. */
  provided: ReadonlySet<string>;
  /** Relative paths of the leaves that failed their format. */
  invalid: ReadonlySet<string>;
}

type SchemaNode = Record<string, unknown>;
const isLeaf = (node: unknown): node is SchemaNode => isMapping(node) && 'default' in node;

// convict walks its instance by dotted paths, so a map key such as `service.name` (resource) or
// a metric name would be read as nesting and crash it. Keys inside map-valued settings travel
// through convict with their dots swapped for a private-use character and are restored after.
const DOT = '\uE000';
const MAP_FORMATS: ReadonlySet<unknown> = new Set<unknown>([Object, 'nw.string-map', 'nw.header-map']);
const isMapLeaf = (node: SchemaNode): boolean => MAP_FORMATS.has(node.format);

function recodeKeys(v: unknown, from: string, to: string): unknown {
  if (Array.isArray(v)) return v.map((x) => recodeKeys(x, from, to));
  if (!isMapping(v)) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k.split(from).join(to), recodeKeys(x, from, to)]));
}

/** Apply `fix` to the value of every map-valued setting in `value` (shaped by `schema`). */
function mapLeaves(schema: SchemaNode, value: Record<string, unknown>, fix: (v: unknown) => unknown): Record<string, unknown> {
  const out: Record<string, unknown> = { ...value };
  for (const [k, node] of Object.entries(schema)) {
    if (!(k in out)) continue;
    if (isLeaf(node)) {
      if (isMapLeaf(node)) out[k] = fix(out[k]);
    } else if (isMapping(out[k])) out[k] = mapLeaves(node as SchemaNode, out[k] as Record<string, unknown>, fix);
  }
  return out;
}

export function checkSection<S>(spec: SchemaSpec<S>, input: unknown, path: string): Checked<S> {
  registerFormats();
  const problems: Problem[] = [];
  const provided = new Set<string>();
  const invalid = new Set<string>();
  const prepared = prepare(spec.schema as SchemaNode, input, path, '', spec, problems, provided, invalid);
  for (const [rel, message] of Object.entries(spec.envProblems ?? {})) {
    if (!provided.has(rel)) problems.push({ path: joinPath(path, rel), message });
  }
  if (prepared === undefined) return { value: undefined, problems, provided, invalid };

  const schema = spec.schema as SchemaNode;
  const encode = (v: unknown) => recodeKeys(v, '.', DOT);
  const cfg = convict(forConvict(schema) as convict.Schema<S>, { env: {}, args: [] });
  try {
    cfg.load(mapLeaves(schema, prepared, encode));
    cfg.validate({ allowed: 'strict', output: () => undefined });
  } catch (e) {
    for (const line of String((e as Error).message).split('\n')) {
      if (!line) continue;
      const { rel, problem } = convictProblem(line.split(DOT).join('.'), path, spec, provided);
      problems.push(problem);
      invalid.add(rel);
      try {
        cfg.reset(line.slice(0, line.indexOf(': ')) as never);
      } catch {
        // not a leaf path (the safety-net messages): nothing to reset
      }
    }
  }
  const value = mapLeaves(schema, cfg.getProperties() as Record<string, unknown>, (v) => recodeKeys(v, DOT, '.'));
  return { value: value as S, problems, provided, invalid };
}

/**
 * Resolve TypedText by each setting's format, drop nulls (an empty value means "use the default",
 * as in the collector), and report unknown keys and non-mappings here, once each, with a
 * suggestion (convict would report `foo: {a: 1}` as two undeclared params `foo.a`, `foo.b`).
 */
function prepare(
  schema: SchemaNode,
  input: unknown,
  path: string,
  rel: string,
  spec: SchemaSpec<unknown>,
  problems: Problem[],
  provided: Set<string>,
  invalid: Set<string>,
): Record<string, unknown> | undefined {
  const value = input instanceof TypedText ? input.value : input;
  if (value === null || value === undefined) return {};
  if (!isMapping(value)) {
    problems.push({ path, message: `must be ${(rel ? undefined : spec.expected) ?? 'a mapping (key: value lines)'}, got ${describe(value)}` });
    return undefined;
  }
  const out: Record<string, unknown> = {};
  const known = Object.keys(schema);
  for (const [key, raw] of Object.entries(value)) {
    const keyPath = joinPath(path, key);
    const relKey = rel ? `${rel}.${key}` : key;
    const node = Object.hasOwn(schema, key) ? schema[key] : undefined;
    if (node === undefined) {
      problems.push({ path: keyPath, message: unknownKeyMessage(key, known, spec.hints?.[relKey]) });
      continue;
    }
    if (isLeaf(node)) {
      const v = resolveLeaf(node.format, raw);
      if (v === undefined) continue;
      if (node.format === Object && !isMapping(v)) {
        problems.push({ path: keyPath, message: `must be a mapping (name: settings lines), got ${describe(v)}` });
        invalid.add(relKey);
        continue;
      }
      // convict would merge a mapping into a non-map setting key by key instead of rejecting it.
      if (!isMapLeaf(node) && isMapping(v)) {
        problems.push({ path: keyPath, message: formatProblem(node.format, v) ?? `must not be a mapping` });
        invalid.add(relKey);
        continue;
      }
      provided.add(relKey);
      out[key] = v;
    } else {
      const sub = prepare(node as SchemaNode, raw, keyPath, relKey, spec, problems, provided, invalid);
      if (sub !== undefined) out[key] = sub;
      else invalid.add(relKey);
    }
  }
  return out;
}

function resolveLeaf(format: unknown, raw: unknown): unknown {
  if (raw === null) return undefined;
  switch (policyOf(format)) {
    case 'text':
      return deep(raw, (t) => t.text);
    case 'value': {
      const v = deep(raw, (t) => t.value);
      return v === null ? undefined : v;
    }
    case 'nested':
      return raw instanceof TypedText ? raw.value : raw;
  }
}

function deep(v: unknown, pick: (t: TypedText) => unknown): unknown {
  if (v instanceof TypedText) return pick(v);
  if (Array.isArray(v)) return v.map((x) => deep(x, pick));
  if (isMapping(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deep(x, pick)]));
  return v;
}

/**
 * `sensitive` stops convict appending ": value was ..." (our formats word values themselves and
 * never print secrets); map defaults get their keys encoded like the input.
 */
function forConvict(schema: SchemaNode): SchemaNode {
  const out: SchemaNode = {};
  for (const [k, node] of Object.entries(schema)) {
    if (!isLeaf(node)) out[k] = forConvict(node as SchemaNode);
    else out[k] = { ...node, sensitive: true, ...(isMapLeaf(node) ? { default: recodeKeys(node.default, '.', DOT) } : {}) };
  }
  return out;
}

function convictProblem(line: string, path: string, spec: SchemaSpec<unknown>, provided: ReadonlySet<string>): { rel: string; problem: Problem } {
  // These two are a safety net: prepare() reports unknown keys and non-mappings first.
  const undeclared = /^configuration param '(.+)' not declared in the schema$/.exec(line);
  if (undeclared) return { rel: undeclared[1], problem: { path: joinPath(path, undeclared[1]), message: 'unknown key' } };
  const missing = /^configuration param '(.+)' missing from config/.exec(line);
  if (missing) return { rel: missing[1], problem: { path: joinPath(path, missing[1]), message: 'must be a mapping' } };
  const sep = line.indexOf(': ');
  if (sep < 0) return { rel: '', problem: { path, message: line } };
  const rel = line.slice(0, sep);
  let message = line.slice(sep + 2);
  const origin = spec.origins?.[rel];
  if (origin && !provided.has(rel)) message += ` (this default comes from ${origin})`;
  return { rel, problem: { path: joinPath(path, rel), message } };
}
