// Reading and validating otel/catalogue.yaml; every problem is collected, each naming its entry.
import { parse } from 'yaml';

export const ATTRIBUTE_TYPES = ['string', 'int', 'double', 'boolean', 'string[]'] as const;
export const INSTRUMENTS = ['counter', 'updowncounter', 'histogram', 'gauge'] as const;
export const SEVERITIES = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;
export const INCLUDE_SWITCHES = ['process_pid', 'peer_address', 'client_port'] as const;
export const RENAMED_KINDS = ['attribute', 'metric', 'event'] as const;

export interface CatalogueAttribute {
  name: string;
  type: (typeof ATTRIBUTE_TYPES)[number];
  description: string;
  requirement: 'always' | 'opt-in';
  enum?: string[];
  include?: (typeof INCLUDE_SWITCHES)[number];
  semconv: boolean;
}

export interface CatalogueMetric {
  name: string;
  /** The name (and its meaning) come from the OpenTelemetry semantic conventions. */
  semconv: boolean;
  source: string;
  instrument: (typeof INSTRUMENTS)[number];
  value_type: 'int' | 'double';
  unit: string;
  description: string;
  enabled: boolean;
  attributes: string[];
  buckets?: number[];
}

export interface CatalogueEvent {
  name: string;
  source: string;
  severity: (typeof SEVERITIES)[number];
  description: string;
  enabled: boolean;
  attributes: string[];
}

/** A name netwatch no longer emits, and what took its place (rendered into the docs; the config's switches point to it). */
export interface CatalogueRename {
  name: string;
  kind: (typeof RENAMED_KINDS)[number];
  /** The name that replaces it, when one does. */
  replaced_by?: string;
  note: string;
}

export interface Catalogue {
  /** The OpenTelemetry semantic conventions version the names follow (x.y.z); the schema URL's version. */
  semconv_version: string;
  attributes: CatalogueAttribute[];
  metrics: CatalogueMetric[];
  events: CatalogueEvent[];
  renamed: CatalogueRename[];
}

export class CatalogueError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`otel/catalogue.yaml is invalid:\n  - ${problems.join('\n  - ')}`);
    this.name = 'CatalogueError';
  }
}

const NAME_RE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;
const VERSION_RE = /^\d+\.\d+\.\d+$/;
/** Where the conventions' schema of a version is published (the schema URL of the resource, meters and loggers). */
export const schemaUrl = (version: string): string => `https://opentelemetry.io/schemas/${version}`;
// UCUM as OTel uses it: a unit symbol, or a `{annotation}` for dimensionless counts.
const UNIT_RE = /^(\{[a-z_]+\}|[A-Za-z0-9/.%]+)$/;

/** TS constant name of a catalogue name: `netwatch.` dropped, upper snake case. */
export function constName(name: string): string {
  return name
    .replace(/^netwatch\./, '')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toUpperCase();
}

/**
 * A catalogue name as Prometheus' text format has it from netwatch's `prometheus` exporter
 * (@opentelemetry/exporter-prometheus, PrometheusSerializer): every character outside
 * [A-Za-z0-9_] becomes `_`, and runs of `_` become one. Labels (attributes) are named so too.
 */
export function prometheusName(name: string): string {
  return name.replace(/[^a-z0-9_]/gi, '_').replace(/_{2,}/g, '_');
}

/**
 * The series names a metric has there: monotonic counters end in `_total`, up-down counters and
 * gauges are gauges under their own name, histograms are `_bucket` (with `le`), `_sum` and `_count`.
 * The exporter adds no unit suffix (`_seconds`, `_bytes`), unlike the collector's and Prometheus'
 * own OTLP translation.
 */
export function prometheusSeries(m: { name: string; instrument: (typeof INSTRUMENTS)[number] }): string[] {
  const base = prometheusName(m.name);
  switch (m.instrument) {
    case 'counter':
      return [base.endsWith('_total') ? base : `${base}_total`];
    case 'updowncounter':
    case 'gauge':
      return [base];
    case 'histogram':
      return [`${base}_bucket`, `${base}_sum`, `${base}_count`];
  }
}

type Raw = Record<string, unknown>;
const isObj = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStrList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

export function parseCatalogue(text: string): Catalogue {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new CatalogueError([`not valid YAML: ${(e as Error).message}`]);
  }
  return validateCatalogue(doc);
}

/** Checks the shape and the cross references; throws CatalogueError listing every problem. */
export function validateCatalogue(doc: unknown): Catalogue {
  const problems: string[] = [];
  if (!isObj(doc)) throw new CatalogueError(['the document must be a mapping with semconv_version, attributes, metrics and events']);
  const section = (key: string): Raw[] => {
    const v = doc[key];
    if (!Array.isArray(v)) {
      problems.push(`${key}: must be a list`);
      return [];
    }
    return v.map((e, i) => {
      if (!isObj(e)) problems.push(`${key}[${i}]: must be a mapping`);
      return isObj(e) ? e : {};
    });
  };
  for (const key of Object.keys(doc))
    if (!['semconv_version', 'attributes', 'metrics', 'events', 'renamed'].includes(key)) problems.push(`${key}: unknown section`);
  const version = doc.semconv_version;
  if (typeof version !== 'string' || !VERSION_RE.test(version)) {
    problems.push(`semconv_version: the semantic conventions version the names follow is required, as x.y.z (got ${JSON.stringify(version)})`);
  }

  const known = (where: string, e: Raw, keys: string[]): void => {
    for (const k of Object.keys(e)) if (!keys.includes(k)) problems.push(`${where}: unknown key '${k}'`);
  };
  const needStr = (where: string, e: Raw, k: string): void => {
    if (typeof e[k] !== 'string' || e[k].trim() === '') problems.push(`${where}: '${k}' is required (non-empty string)`);
  };
  const oneOf = (where: string, e: Raw, k: string, allowed: readonly string[]): void => {
    if (!allowed.includes(e[k] as string)) problems.push(`${where}: '${k}' must be one of ${allowed.join(', ')} (got ${JSON.stringify(e[k])})`);
  };
  const needBool = (where: string, e: Raw, k: string): void => {
    if (typeof e[k] !== 'boolean') problems.push(`${where}: '${k}' is required (true or false)`);
  };
  const uniqueNames = (kind: string, list: Raw[]): void => {
    const seen = new Set<string>();
    const consts = new Map<string, string>();
    list.forEach((e, i) => {
      const name = e.name;
      if (typeof name !== 'string' || !NAME_RE.test(name)) {
        problems.push(`${kind}[${i}]: 'name' must be dotted lower-case (got ${JSON.stringify(name)})`);
        return;
      }
      if (seen.has(name)) problems.push(`${kind} ${name}: defined more than once`);
      seen.add(name);
      const c = constName(name);
      if (consts.has(c) && consts.get(c) !== name) problems.push(`${kind} ${name}: its constant ${c} clashes with ${consts.get(c)}`);
      consts.set(c, name);
    });
  };

  const attributes = section('attributes');
  const metrics = section('metrics');
  const events = section('events');
  const renamed = doc.renamed === undefined ? [] : section('renamed');
  uniqueNames('attribute', attributes);
  uniqueNames('metric', metrics);
  uniqueNames('event', events);

  /** A name is the conventions' (`semconv: true`, checked against the package by a unit test) or under `netwatch.`. */
  const ownNamespace = (where: string, e: Raw): void => {
    if (e.semconv !== undefined && typeof e.semconv !== 'boolean') problems.push(`${where}: 'semconv' must be true or false`);
    if (e.semconv !== true && typeof e.name === 'string' && !e.name.startsWith('netwatch.')) {
      problems.push(`${where}: names outside the semantic conventions must start with 'netwatch.'`);
    }
    if (e.semconv === true && typeof e.name === 'string' && e.name.startsWith('netwatch.')) {
      problems.push(`${where}: a 'netwatch.' name is not from the semantic conventions (drop 'semconv: true')`);
    }
  };

  const attrByName = new Map<string, Raw>();
  for (const a of attributes) {
    const where = `attribute ${String(a.name)}`;
    if (typeof a.name === 'string') attrByName.set(a.name, a);
    known(where, a, ['name', 'type', 'description', 'requirement', 'enum', 'include', 'semconv']);
    needStr(where, a, 'description');
    oneOf(where, a, 'type', ATTRIBUTE_TYPES);
    oneOf(where, a, 'requirement', ['always', 'opt-in']);
    ownNamespace(where, a);
    if (a.enum !== undefined) {
      if (a.type !== 'string' && a.type !== 'string[]') problems.push(`${where}: only string attributes can have 'enum'`);
      if (!isStrList(a.enum) || a.enum.length === 0) problems.push(`${where}: 'enum' must be a non-empty list of strings`);
      else if (new Set(a.enum).size !== a.enum.length) problems.push(`${where}: 'enum' has duplicate values`);
    }
    if (a.include !== undefined) {
      oneOf(where, a, 'include', INCLUDE_SWITCHES);
      if (a.requirement !== 'opt-in') problems.push(`${where}: 'include' only applies to opt-in attributes`);
    }
  }
  const checkRefs = (where: string, e: Raw, forMetric: boolean): void => {
    if (!isStrList(e.attributes)) {
      problems.push(`${where}: 'attributes' must be a list of attribute names`);
      return;
    }
    if (new Set(e.attributes).size !== e.attributes.length) problems.push(`${where}: 'attributes' lists an attribute twice`);
    for (const ref of e.attributes) {
      const a = attrByName.get(ref);
      if (!a) problems.push(`${where}: attribute '${ref}' is not defined in 'attributes'`);
      else if (forMetric && a.requirement === 'opt-in' && a.include === undefined) {
        problems.push(`${where}: opt-in attribute '${ref}' has no 'include' switch, so it could never be added to a metric`);
      } else if (forMetric && a.type === 'string[]') {
        problems.push(`${where}: array attribute '${ref}' is for log records only (a series is keyed by scalar values)`);
      }
    }
  };

  for (const m of metrics) {
    const where = `metric ${String(m.name)}`;
    known(where, m, ['name', 'semconv', 'source', 'instrument', 'value_type', 'unit', 'description', 'enabled', 'attributes', 'buckets']);
    ownNamespace(where, m);
    needStr(where, m, 'source');
    needStr(where, m, 'description');
    oneOf(where, m, 'instrument', INSTRUMENTS);
    oneOf(where, m, 'value_type', ['int', 'double']);
    needBool(where, m, 'enabled');
    if (typeof m.unit !== 'string' || !UNIT_RE.test(m.unit))
      problems.push(`${where}: 'unit' is required (UCUM, e.g. s, By, {connection}; got ${JSON.stringify(m.unit)})`);
    checkRefs(where, m, true);
    if (m.instrument === 'histogram') {
      const b = m.buckets;
      if (!Array.isArray(b) || b.length === 0 || !b.every((x) => typeof x === 'number' && Number.isFinite(x))) {
        problems.push(`${where}: histograms need 'buckets' (a non-empty list of numbers)`);
      } else if (b.some((x, i) => i > 0 && x <= (b[i - 1] as number))) {
        problems.push(`${where}: 'buckets' must be strictly increasing`);
      }
    } else if (m.buckets !== undefined) {
      problems.push(`${where}: only histograms have 'buckets'`);
    }
  }
  for (const e of events) {
    const where = `event ${String(e.name)}`;
    known(where, e, ['name', 'source', 'severity', 'description', 'enabled', 'attributes']);
    if (typeof e.name === 'string' && !e.name.startsWith('netwatch.')) problems.push(`${where}: event names must start with 'netwatch.'`);
    needStr(where, e, 'source');
    needStr(where, e, 'description');
    oneOf(where, e, 'severity', SEVERITIES);
    needBool(where, e, 'enabled');
    checkRefs(where, e, false);
  }
  const current: Record<(typeof RENAMED_KINDS)[number], Set<unknown>> = {
    attribute: new Set(attributes.map((a) => a.name)),
    metric: new Set(metrics.map((m) => m.name)),
    event: new Set(events.map((e) => e.name)),
  };
  const seenRenames = new Set<string>();
  for (const r of renamed) {
    const where = `renamed ${String(r.name)}`;
    known(where, r, ['name', 'kind', 'replaced_by', 'note']);
    needStr(where, r, 'name');
    needStr(where, r, 'note');
    oneOf(where, r, 'kind', RENAMED_KINDS);
    const kind = r.kind as (typeof RENAMED_KINDS)[number];
    if (!(RENAMED_KINDS as readonly unknown[]).includes(kind)) continue;
    if (seenRenames.has(`${kind} ${String(r.name)}`)) problems.push(`${where}: listed more than once`);
    seenRenames.add(`${kind} ${String(r.name)}`);
    if (current[kind].has(r.name)) problems.push(`${where}: the ${kind} still exists; only names no longer emitted are listed here`);
    if (r.replaced_by !== undefined && (typeof r.replaced_by !== 'string' || !current[kind].has(r.replaced_by))) {
      problems.push(`${where}: 'replaced_by' must name a current ${kind} (got ${JSON.stringify(r.replaced_by)})`);
    }
  }
  if (problems.length > 0) throw new CatalogueError(problems);

  return {
    semconv_version: version as string,
    attributes: attributes.map((a) => ({ ...(a as unknown as CatalogueAttribute), semconv: a.semconv === true })),
    metrics: metrics.map((m) => ({ ...(m as unknown as CatalogueMetric), semconv: m.semconv === true })),
    events: events as unknown as CatalogueEvent[],
    renamed: renamed as unknown as CatalogueRename[],
  };
}
