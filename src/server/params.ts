// Query parameters of the API routes, declared once: the same declarations parse requests and
// document the routes in /openapi.json. Unknown or malformed parameters are a 400 naming each one.
import { isIP } from 'node:net';
import { cidrProblem } from '../config/cidr';
import { parseDuration } from '../config/duration';

export type ParamType =
  /** A whole number within [min, max]. */
  | { kind: 'integer'; min: number; max: number }
  /** Comma-separated names; `*` is a wildcard. */
  | { kind: 'names' }
  /** Comma-separated port numbers. */
  | { kind: 'ports' }
  /** Comma-separated IP addresses or CIDRs. */
  | { kind: 'cidrs' }
  /** A duration back from now (`60s`, `5m`) or an RFC 3339 time. */
  | { kind: 'time' }
  /** Comma-separated values out of a fixed set. */
  | { kind: 'enum'; values: readonly string[] };

export interface ParamSpec {
  readonly name: string;
  readonly type: ParamType;
  readonly description: string;
  readonly example?: string;
}

export type ParamValue = number | readonly string[] | readonly number[];
export type ParsedParams = Readonly<Record<string, ParamValue | undefined>>;

const splitList = (raw: string): string[] =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** Parses one value; returns the problem text when it is not valid. */
function parseOne(spec: ParamSpec, raw: string, nowMs: number): ParamValue | string {
  const t = spec.type;
  switch (t.kind) {
    case 'integer': {
      if (!/^\d+$/.test(raw)) return `must be a whole number, got ${JSON.stringify(raw)}`;
      const n = Number(raw);
      if (n < t.min || n > t.max) return `must be from ${t.min} to ${t.max}, got ${n}`;
      return n;
    }
    case 'names': {
      const names = splitList(raw);
      return names.length ? names : 'must name at least one value';
    }
    case 'ports': {
      const items = splitList(raw);
      const bad = items.filter((p) => !/^\d+$/.test(p) || Number(p) < 1 || Number(p) > 65535);
      if (!items.length || bad.length) return `must be port numbers from 1 to 65535, separated by commas; got ${JSON.stringify(raw)}`;
      return items.map(Number);
    }
    case 'cidrs': {
      const items = splitList(raw).map((a) => (isIP(a) === 4 ? `${a}/32` : isIP(a) === 6 ? `${a}/128` : a));
      if (!items.length) return 'must be an IP address or CIDR';
      const bad = items.map(cidrProblem).filter((p) => p !== undefined);
      return bad.length ? `must be IP addresses or CIDRs: ${bad.join('; ')}` : items;
    }
    case 'time': {
      const ago = parseDuration(raw);
      if (ago !== undefined) return nowMs - ago;
      // RFC 3339 only (Date.parse alone would take "1" or "May 5").
      if (/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(raw) && !Number.isNaN(Date.parse(raw))) return Date.parse(raw);
      return `must be a duration back from now such as 60s or 5m, or an RFC 3339 time such as 2026-01-02T15:04:05Z; got ${JSON.stringify(raw)}`;
    }
    case 'enum': {
      const items = splitList(raw);
      const bad = items.filter((v) => !t.values.includes(v));
      if (!items.length || bad.length) return `must be one or more of ${t.values.join(', ')} (separated by commas); got ${JSON.stringify(raw)}`;
      return items;
    }
  }
}

export interface ParseResult {
  params: ParsedParams;
  problems: string[];
}

export function parseParams(specs: readonly ParamSpec[], query: URLSearchParams, nowMs: number): ParseResult {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const params: Record<string, ParamValue | undefined> = {};
  const problems: string[] = [];
  for (const name of new Set(query.keys())) {
    const spec = byName.get(name);
    if (!spec) {
      problems.push(`${name}: unknown parameter; this route takes ${specs.map((s) => s.name).join(', ') || 'none'}`);
      continue;
    }
    const all = query.getAll(name);
    if (all.length > 1) {
      problems.push(`${name}: given ${all.length} times; give it once (lists are separated by commas)`);
      continue;
    }
    const v = parseOne(spec, all[0]!, nowMs); // name is one of the query's keys, given once: all has one value
    if (typeof v === 'string') problems.push(`${name}: ${v}`);
    else params[name] = v;
  }
  return { params, problems };
}

/** The parameter's OpenAPI 3 schema. */
export function paramSchema(t: ParamType): Record<string, unknown> {
  switch (t.kind) {
    case 'integer':
      return { type: 'integer', minimum: t.min, maximum: t.max };
    case 'names':
    case 'cidrs':
      return { type: 'string' };
    case 'ports':
      return { type: 'string', pattern: '^\\d{1,5}(,\\d{1,5})*$' };
    case 'time':
      return { type: 'string' };
    case 'enum':
      return { type: 'string', pattern: `^(${t.values.join('|')})(,(${t.values.join('|')}))*$` };
  }
}
