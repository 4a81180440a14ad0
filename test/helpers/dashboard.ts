// otel/dashboards/netwatch.json for the tests: its panels and queries, the catalogue's metrics under
// the names the agent's prometheus exporter gives them, the metric and label names a query mentions,
// and Grafana's variables replaced so that Prometheus itself can run a panel's query.
import { readFileSync } from 'node:fs';
import { prometheusName, prometheusSeries } from '../../otel/catalogue';
import { METRICS, type MetricDescriptor } from '../../src/catalogue/generated';
import { repoPath } from './paths';

export const DASHBOARD_PATH = repoPath('otel', 'dashboards', 'netwatch.json');

export interface DashboardTarget {
  refId: string;
  expr: string;
  legendFormat?: string;
  format?: string;
  instant?: boolean;
  datasource?: { type: string; uid: string };
}

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource?: { type: string; uid: string };
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: DashboardTarget[];
  /** A row's panels when it is collapsed (Grafana keeps them inside the row then). */
  panels?: DashboardPanel[];
  options?: Record<string, unknown>;
}

export interface DashboardVariable {
  name: string;
  type: string;
  query: string | { query: string };
  definition?: string;
}

export interface Dashboard {
  title: string;
  uid: string;
  schemaVersion: number;
  panels: DashboardPanel[];
  templating: { list: DashboardVariable[] };
}

/** One query of one panel, as the tests run it. */
export interface PanelQuery {
  panel: string;
  refId: string;
  expr: string;
}

export function readDashboard(path = DASHBOARD_PATH): Dashboard {
  return JSON.parse(readFileSync(path, 'utf8')) as Dashboard;
}

/** Every panel that shows data (rows left out, a collapsed row's panels included), in the file's order. */
export function dataPanels(d: Dashboard): DashboardPanel[] {
  return d.panels.flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p]));
}

export function panelQueries(d: Dashboard): PanelQuery[] {
  return dataPanels(d).flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, refId: t.refId, expr: t.expr })));
}

/** The PromQL of a query variable (`label_values(<selector>, <label>)` is Grafana's, not PromQL). */
export function variableQuery(v: DashboardVariable): string {
  return typeof v.query === 'string' ? v.query : v.query.query;
}

/** `label_values(selector, label)` split into its parts, as Grafana sends it: /api/v1/label/<label>/values?match[]=<selector>. */
export function labelValuesCall(q: string): { selector: string; label: string } | undefined {
  const m = /^label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\)$/.exec(q.trim());
  return m ? { selector: m[1]!.trim(), label: m[2]! } : undefined;
}

/** What Grafana's built-in time variables stand for when the tests run a query (ranges wide enough for a test's few minutes). */
export interface TimeVariables {
  /** $__rate_interval: Grafana makes it at least four scrape intervals. */
  rateInterval: string;
  /** $__interval: the step of the graph. */
  interval: string;
  /** $__range: the dashboard's time range. */
  range: string;
}

export const TEST_TIME_VARIABLES: TimeVariables = { rateInterval: '1m', interval: '15s', range: '5m' };

/**
 * The query with Grafana's variables replaced: the built-in time variables by `time`, and every
 * template variable of the dashboard (`$job`, `${instance}`, `${host:regex}`) by `.*`, which is
 * what "All" matches; template variables appear only in `=~"…"` matchers (the unit test checks).
 * An unknown variable throws, so a typo cannot pass for a query.
 */
export function toPromQL(expr: string, templateVariables: readonly string[], time: TimeVariables = TEST_TIME_VARIABLES): string {
  return expr.replace(/\$(?:\{(\w+)(?::\w+)?\}|(\w+))/g, (whole, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare!;
    switch (name) {
      case '__rate_interval':
        return time.rateInterval;
      case '__interval':
        return time.interval;
      case '__range':
        return time.range;
      default:
        if (templateVariables.includes(name)) return '.*';
        throw new Error(`unknown Grafana variable ${whole} in ${expr}`);
    }
  });
}

/** Series names the agent's prometheus exporter serves besides the catalogue's: the resource, with host.name and service.instance.id. */
export const RESOURCE_SERIES = 'target_info';
/** Labels Prometheus adds to every scraped series, and the bucket bound of `_bucket` series. */
export const PROMETHEUS_LABELS = ['job', 'instance', 'le'] as const;
/** Resource attributes that are labels of target_info. */
export const RESOURCE_LABELS = ['host_name', 'host_id', 'service_name', 'service_version', 'service_instance_id'] as const;

/** Every series name of every catalogue metric, as the agent's prometheus exporter names it, with its metric. */
export function prometheusCatalogue(): Map<string, MetricDescriptor> {
  const out = new Map<string, MetricDescriptor>();
  for (const m of Object.values(METRICS)) for (const s of prometheusSeries(m)) out.set(s, m);
  return out;
}

/** The Prometheus label names of a metric's attributes. */
export const prometheusLabels = (m: MetricDescriptor): string[] => m.attributes.map(prometheusName);

const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
// Aggregation operators may be followed by `by (...)` before their parenthesis.
const AGGREGATIONS = ['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio'];
const KEYWORDS = new Set([...GROUPING, ...AGGREGATIONS, 'and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);
const TOKEN = /\s+|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?[a-z]*|[A-Za-z_:][A-Za-z0-9_:]*|=~|!~|!=|==|>=|<=|./gy;

/**
 * The metric names and label names a PromQL expression mentions (after toPromQL). Metric names:
 * identifiers that are not functions, aggregations or keywords, outside braces and ranges. Labels:
 * the left side of every matcher in braces, and the lists after by/without/on/ignoring/group_*.
 * A small lexer, enough for the dashboard's queries; a query it cannot read fails the unit test,
 * and Prometheus itself parses every query in the end-to-end test.
 */
export function promqlNames(expr: string): { metrics: string[]; labels: string[] } {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < expr.length) {
    const m = TOKEN.exec(expr);
    if (!m) throw new Error(`cannot read ${JSON.stringify(expr.slice(TOKEN.lastIndex))} in ${expr}`);
    if (!/^\s+$/.test(m[0])) tokens.push(m[0]);
  }
  const metrics: string[] = [];
  const labels: string[] = [];
  const isIdent = (t: string | undefined): t is string => t !== undefined && /^[A-Za-z_:][A-Za-z0-9_:]*$/.test(t);
  let braces = 0;
  let brackets = 0;
  let grouping = false;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const next = tokens[i + 1];
    if (t === '{') braces++;
    else if (t === '}') braces--;
    else if (t === '[') brackets++;
    else if (t === ']') brackets--;
    else if (grouping) {
      if (t === ')') grouping = false;
      else if (isIdent(t)) labels.push(t);
    } else if (braces > 0) {
      if (isIdent(t) && next !== undefined && ['=', '!=', '=~', '!~'].includes(next)) labels.push(t);
    } else if (brackets === 0 && isIdent(t)) {
      if (GROUPING.has(t) && next === '(') {
        grouping = true;
        i++;
      } else if (next !== '(' && !KEYWORDS.has(t.toLowerCase())) metrics.push(t);
    }
  }
  if (braces !== 0 || brackets !== 0 || grouping) throw new Error(`unbalanced braces, brackets or grouping in ${expr}`);
  return { metrics: [...new Set(metrics)], labels: [...new Set(labels)] };
}
