// Checks one mapping of agent.yaml against one convict-shaped schema (`doc`, `format`, `default`
// per key) by walking the schema and the file's tree together, so every problem is collected with
// its full key path and no key is ever re-read as a dotted path (map keys such as `service.name`
// or metric names are plain keys here).
import type convict from 'convict';
import { formatProblems, policyOf, takesMapping, type FormatProblem } from './formats';
import { describe, isMapping, joinPath, list, unknownKeyMessage, type Problem } from './problems';
import { TypedText } from './typed-text';

/** A convict-shaped schema plus what the loader needs to word messages about defaults that came from OTEL_* variables. */
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
  /** Relative paths of the settings that failed their format or shape (they hold their defaults). */
  invalid: ReadonlySet<string>;
}

type SchemaNode = Record<string, unknown>;
interface Leaf {
  doc?: string;
  format: unknown;
  default: unknown;
}
/** As convict decides: a node with a `default` is a setting, any other mapping nests settings. */
const isLeaf = (node: unknown): node is Leaf => isMapping(node) && 'default' in node;

export function checkSection<S>(spec: SchemaSpec<S>, input: unknown, path: string): Checked<S> {
  const walk = new Walk(spec);
  const top = input instanceof TypedText ? input.value : input;
  let value: Record<string, unknown> | undefined;
  if (top === null || top === undefined) value = walk.mapping(spec.schema, {}, '', path);
  else if (isMapping(top)) value = walk.mapping(spec.schema, top, '', path);
  else walk.problems.push({ path, message: `must be ${spec.expected ?? 'a mapping (key: value lines)'}, got ${describe(top)}` });
  // What the file says first (in file order), then what the environment was to supply.
  for (const [rel, message] of Object.entries(spec.envProblems ?? {})) {
    if (!walk.provided.has(rel)) walk.problems.push({ path: joinPath(path, rel), message });
  }
  const problems = [...walk.problems, ...walk.defaultProblems];
  return { value: value as S | undefined, problems, provided: walk.provided, invalid: walk.invalid };
}

class Walk {
  readonly problems: Problem[] = [];
  /** Defaults that fail their own format (one from a bad OTEL_* variable, say), in schema order. */
  readonly defaultProblems: Problem[] = [];
  readonly provided = new Set<string>();
  readonly invalid = new Set<string>();

  constructor(private readonly spec: SchemaSpec<unknown>) {}

  /** One mapping of settings: the file's keys in file order, then defaults for the rest; the result in schema order. */
  mapping(schema: SchemaNode, input: Readonly<Record<string, unknown>>, rel: string, path: string): Record<string, unknown> {
    const given = new Map<string, unknown>();
    for (const [key, raw] of Object.entries(input)) {
      const keyRel = rel ? `${rel}.${key}` : key;
      const keyPath = joinPath(path, key);
      const node = Object.hasOwn(schema, key) ? schema[key] : undefined;
      if (node === undefined) this.problems.push({ path: keyPath, message: unknownKeyMessage(key, Object.keys(schema), this.hint(schema, key, keyRel)) });
      else if (isLeaf(node)) {
        const v = this.leaf(node, raw, keyRel, keyPath);
        if (v !== undefined) given.set(key, v);
      } else given.set(key, this.nested(node as SchemaNode, raw, keyRel, keyPath));
    }
    const out: Record<string, unknown> = {};
    for (const [key, node] of Object.entries(schema)) {
      const keyRel = rel ? `${rel}.${key}` : key;
      if (given.has(key)) out[key] = given.get(key);
      else if (isLeaf(node)) out[key] = this.byDefault(node, keyRel, joinPath(path, key));
      else out[key] = this.mapping(node as SchemaNode, {}, keyRel, joinPath(path, key));
    }
    return out;
  }

  private hint(schema: SchemaNode, key: string, rel: string): string | undefined {
    // Own keys only: a key such as toString must not find Object.prototype's.
    const hints = this.spec.hints;
    return hints && Object.hasOwn(hints, rel) ? hints[rel] : nestingHint(schema, key);
  }

  /** A nested group of settings; anything but a mapping is reported once and the group takes its defaults. */
  private nested(schema: SchemaNode, raw: unknown, rel: string, path: string): Record<string, unknown> {
    const v = raw instanceof TypedText ? raw.value : raw;
    if (v === null || v === undefined) return this.mapping(schema, {}, rel, path);
    if (isMapping(v)) return this.mapping(schema, v, rel, path);
    this.problems.push({ path, message: `must be a mapping (key: value lines) with keys among ${list(Object.keys(schema))}, got ${describe(v)}` });
    this.invalid.add(rel);
    return this.mapping(schema, {}, rel, path);
  }

  /** The file's value for one setting, or undefined when it leaves it empty (an empty value means "use the default", as in the collector). */
  private leaf(node: Leaf, raw: unknown, rel: string, path: string): unknown {
    let v = resolveLeaf(node.format, raw);
    if (v === undefined) return undefined;
    // A mapping where one value belongs would otherwise be judged by a format written for scalars and lists.
    if (isMapping(v) && !takesMapping(node.format)) {
      const why = formatProblems(node.format, v);
      return this.reject(node, rel, path, why.length ? why : [{ message: 'must not be a mapping' }]);
    }
    this.provided.add(rel);
    // Map settings merge over their default (resource and headers over their OTEL_* values); the file's entries win.
    if (isMapping(v) && isMapping(node.default)) v = { ...(copy(node.default) as Record<string, unknown>), ...v };
    const why = formatProblems(node.format, v);
    return why.length === 0 ? v : this.reject(node, rel, path, why);
  }

  /** Reports a value the file gave and puts the default in its place (not judged again: the file's value is what is wrong). */
  private reject(node: Leaf, rel: string, path: string, why: readonly FormatProblem[]): unknown {
    for (const p of why) this.problems.push(placed(path, p));
    this.invalid.add(rel);
    return copy(node.default);
  }

  private byDefault(node: Leaf, rel: string, path: string): unknown {
    const v = copy(node.default);
    const why = formatProblems(node.format, v);
    if (why.length) {
      const origin = this.spec.origins?.[rel];
      for (const p of why) this.defaultProblems.push(placed(path, origin ? { ...p, message: `${p.message} (this default comes from ${origin})` } : p));
      this.invalid.add(rel);
    }
    return v;
  }
}

/** A problem with one item of a list is reported at that item (`ports[1]`). */
const placed = (path: string, p: FormatProblem): Problem => ({ path: p.index === undefined ? path : joinPath(path, p.index), message: p.message });

/** `include.process_pid: true` where `include: {process_pid: true}` was meant: keys are never split at dots. */
function nestingHint(schema: SchemaNode, key: string): string | undefined {
  const parts = key.split('.');
  if (parts.length < 2) return undefined;
  const names: string[] = [];
  let node: unknown = schema;
  for (const [i, part] of parts.entries()) {
    if (isLeaf(node)) {
      // A map setting takes the rest as one name (metric names and resource keys have dots).
      if (!takesMapping(node.format)) return undefined;
      names.push(parts.slice(i).join('.'));
      break;
    }
    if (!isMapping(node) || !Object.hasOwn(node, part)) return undefined;
    names.push(part);
    node = node[part];
  }
  const last = names.pop()!;
  return `keys are not split at dots, so nest it: ${names.reduceRight((inner, name) => `${name}: {${inner}}`, `${last}: ...`)}`;
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

/** Defaults are copied so that a config (later frozen) never shares a schema's arrays or maps. */
function copy(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(copy);
  if (isMapping(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, copy(x)]));
  return v;
}
