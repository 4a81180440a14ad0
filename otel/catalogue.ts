// Reading and validating otel/catalogue.yaml; every problem is collected, each naming its entry.
import { parse } from 'yaml';

export const ATTRIBUTE_TYPES = ['string', 'int', 'double', 'boolean'] as const;
export const INSTRUMENTS = ['counter', 'updowncounter', 'histogram', 'gauge'] as const;
export const SEVERITIES = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;
export const INCLUDE_SWITCHES = ['process_pid', 'peer_address', 'client_port'] as const;

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

export interface Catalogue {
  attributes: CatalogueAttribute[];
  metrics: CatalogueMetric[];
  events: CatalogueEvent[];
}

export class CatalogueError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`otel/catalogue.yaml is invalid:\n  - ${problems.join('\n  - ')}`);
    this.name = 'CatalogueError';
  }
}

const NAME_RE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;
// UCUM as OTel uses it: a unit symbol, or a `{annotation}` for dimensionless counts.
const UNIT_RE = /^(\{[a-z_]+\}|[A-Za-z0-9/.%]+)$/;

/** TS constant name of a catalogue name: `netwatch.` dropped, upper snake case. */
export function constName(name: string): string {
  return name
    .replace(/^netwatch\./, '')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toUpperCase();
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
  if (!isObj(doc)) throw new CatalogueError(['the document must be a mapping with attributes, metrics and events']);
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
  for (const key of Object.keys(doc)) if (!['attributes', 'metrics', 'events'].includes(key)) problems.push(`${key}: unknown section`);

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
  uniqueNames('attribute', attributes);
  uniqueNames('metric', metrics);
  uniqueNames('event', events);

  const attrByName = new Map<string, Raw>();
  for (const a of attributes) {
    const where = `attribute ${String(a.name)}`;
    if (typeof a.name === 'string') attrByName.set(a.name, a);
    known(where, a, ['name', 'type', 'description', 'requirement', 'enum', 'include', 'semconv']);
    needStr(where, a, 'description');
    oneOf(where, a, 'type', ATTRIBUTE_TYPES);
    oneOf(where, a, 'requirement', ['always', 'opt-in']);
    if (a.semconv !== undefined && typeof a.semconv !== 'boolean') problems.push(`${where}: 'semconv' must be true or false`);
    if (a.semconv !== true && typeof a.name === 'string' && !a.name.startsWith('netwatch.')) {
      problems.push(`${where}: names outside the semantic conventions must start with 'netwatch.'`);
    }
    if (a.enum !== undefined) {
      if (a.type !== 'string') problems.push(`${where}: only string attributes can have 'enum'`);
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
      }
    }
  };

  for (const m of metrics) {
    const where = `metric ${String(m.name)}`;
    known(where, m, ['name', 'source', 'instrument', 'value_type', 'unit', 'description', 'enabled', 'attributes', 'buckets']);
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
    needStr(where, e, 'source');
    needStr(where, e, 'description');
    oneOf(where, e, 'severity', SEVERITIES);
    needBool(where, e, 'enabled');
    checkRefs(where, e, false);
  }
  if (problems.length > 0) throw new CatalogueError(problems);

  return {
    attributes: attributes.map((a) => ({ ...(a as unknown as CatalogueAttribute), semconv: a.semconv === true })),
    metrics: metrics as unknown as CatalogueMetric[],
    events: events as unknown as CatalogueEvent[],
  };
}
