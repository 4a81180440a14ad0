// Every route the server answers, declared once: path, parameters, responses and handler. The
// server dispatches from this table and /openapi.json is generated from it (openapi.ts).
import type { ConnPipelineEvent, PipelineEvent, SniPipelineEvent } from '../pipeline/event';
import { TCP_STATES } from '../wire/tcp-states';
import { compileEventFilter, COMMON_FILTERS, serverNameFilter } from './filters';
import { type AgentStatus, healthBody, readiness } from './health';
import type { ParamSpec, ParsedParams } from './params';
import * as S from './schemas';
import type { EventStore } from './store';
import { summarizeConnections, summarizeSni } from './summary';
import { connectionView, sniView } from './views';
import type { EventWindow } from './window';

/** What the routes read: the agent's status and event windows. */
export interface ServerContext {
  readonly store: EventStore;
  status(): AgentStatus;
  readonly version: string;
  now(): number;
}

export interface RouteRequest {
  params: ParsedParams;
}

export interface RouteResult {
  status: number;
  body: unknown;
}

export interface Route {
  readonly path: string;
  readonly summary: string;
  readonly description: string;
  readonly tag: 'health' | 'query' | 'meta';
  /** false for the liveness and readiness probes: orchestrators call them without credentials. */
  readonly auth: boolean;
  readonly params: readonly ParamSpec[];
  readonly responses: Readonly<Record<number, { description: string; schema: Record<string, unknown> }>>;
  handle(req: RouteRequest, ctx: ServerContext): RouteResult;
}

export const DEFAULT_LIMIT = 100;
const LIMIT_MAX = 1_000_000;
const limitParam: ParamSpec = {
  name: 'limit',
  type: { kind: 'integer', min: 1, max: LIMIT_MAX },
  description: `Most events returned, last received first (default ${DEFAULT_LIMIT}).`,
  example: '20',
};

const CONN_PARAMS: readonly ParamSpec[] = [
  ...COMMON_FILTERS,
  { name: 'transport', type: { kind: 'enum', values: ['tcp', 'udp'] }, description: 'tcp or udp.' },
  { name: 'kind', type: { kind: 'enum', values: ['connect', 'accept', 'state', 'close', 'existing'] }, description: 'Event kinds (comma-separated).' },
  { name: 'state', type: { kind: 'enum', values: TCP_STATES }, description: 'The TCP state the event moved to (network.connection.state names).' },
];
const SNI_PARAMS: readonly ParamSpec[] = [
  ...COMMON_FILTERS,
  {
    name: 'server_name',
    type: { kind: 'names' },
    description: 'Server names asked for (comma-separated, `*` wildcard, case-insensitive).',
    example: '*.example.com',
  },
  {
    name: 'kind',
    type: { kind: 'enum', values: ['client_hello', 'syn'] },
    description: 'client_hello (a parsed TLS ClientHello) or syn (a connection attempt).',
  },
];

const listOfStrings = (p: ParsedParams, name: string): ReadonlySet<string> | undefined =>
  p[name] === undefined ? undefined : new Set(p[name] as readonly string[]);

function connFilter(p: ParsedParams): (ev: PipelineEvent) => boolean {
  const kinds = listOfStrings(p, 'kind');
  const states = listOfStrings(p, 'state');
  const extra: ((ev: PipelineEvent) => boolean)[] = [];
  if (kinds) extra.push((ev) => kinds.has(ev.kind));
  if (states) extra.push((ev) => ev.source === 'connections' && states.has(ev.newState));
  return compileEventFilter(p, extra);
}

function sniFilter(p: ParsedParams): (ev: PipelineEvent) => boolean {
  const kinds = listOfStrings(p, 'kind');
  const extra: ((ev: PipelineEvent) => boolean)[] = [];
  if (kinds) extra.push((ev) => kinds.has(ev.kind));
  const names = serverNameFilter(p);
  if (names) extra.push(names);
  return compileEventFilter(p, extra);
}

function scanOf<T extends PipelineEvent>(w: EventWindow<T>, p: ParsedParams, match: (ev: PipelineEvent) => boolean) {
  return w.scan({ sinceUnixMs: p.since as number | undefined, untilUnixMs: p.until as number | undefined, match });
}

function list<T extends PipelineEvent>(w: EventWindow<T>, p: ParsedParams, match: (ev: PipelineEvent) => boolean, view: (ev: T) => unknown): RouteResult {
  const limit = (p.limit as number | undefined) ?? DEFAULT_LIMIT;
  const events: unknown[] = [];
  let truncated = false;
  for (const ev of scanOf(w, p, match)) {
    if (events.length === limit) {
      truncated = true;
      break;
    }
    events.push(view(ev));
  }
  return { status: 200, body: { count: events.length, truncated, events } };
}

const lostEvents = (ctx: ServerContext): Record<string, number> =>
  Object.fromEntries(Object.entries(ctx.status().receivers).map(([id, r]) => [id, r.stats?.lost ?? 0]));

const badRequest = { description: 'A parameter is unknown or malformed; `problems` names each one.', schema: S.ERROR };
const unauthorized = { description: 'A bearer token is configured and the request did not carry it.', schema: S.ERROR };

export const ROUTES: readonly Route[] = [
  {
    path: '/livez',
    summary: 'Liveness',
    description: 'Answers 200 while the process serves requests at all.',
    tag: 'health',
    auth: false,
    params: [],
    responses: { 200: { description: 'Alive.', schema: S.PROBE } },
    handle: () => ({ status: 200, body: { status: 'ok', reasons: [] } }),
  },
  {
    path: '/readyz',
    summary: 'Readiness',
    description: 'Answers 200 once every configured probe is attached and the exporters are constructed, 503 with the reasons otherwise.',
    tag: 'health',
    auth: false,
    params: [],
    responses: { 200: { description: 'Ready.', schema: S.PROBE }, 503: { description: 'Not ready; `reasons` says why.', schema: S.PROBE } },
    handle: (_req, ctx) => {
      const r = readiness(ctx.status());
      return { status: r.ready ? 200 : 503, body: { status: r.ready ? 'ready' : 'not ready', reasons: r.reasons } };
    },
  },
  {
    path: '/health',
    summary: 'Health report',
    description:
      'Per-probe status and events read/lost, exporter status with the last error, config generation and last reload, uptime, version. 503 while not ready.',
    tag: 'health',
    auth: true,
    params: [],
    responses: {
      200: { description: 'Ready (status ok, or degraded when an exporter fails).', schema: S.HEALTH },
      503: { description: 'Not ready.', schema: S.HEALTH },
      401: unauthorized,
    },
    handle: (_req, ctx) => {
      const body = healthBody(ctx.status(), ctx.version, ctx.now());
      return { status: body.ready ? 200 : 503, body };
    },
  },
  {
    path: '/api/v1/connections',
    summary: 'Recent connection events',
    description: 'Connection events from the in-memory window (everything the receivers produced, before processors), last received first.',
    tag: 'query',
    auth: true,
    params: [...CONN_PARAMS, limitParam],
    responses: { 200: { description: 'Matching events.', schema: S.CONNECTION_LIST }, 400: badRequest, 401: unauthorized },
    handle: ({ params }, ctx) => list<ConnPipelineEvent>(ctx.store.connections, params, connFilter(params), connectionView),
  },
  {
    path: '/api/v1/connections/summary',
    summary: 'Connections counted per process, container, Nomad job and state',
    description: 'The matching events grouped into connections (by socket); each connection counted once, in the state of its latest event.',
    tag: 'query',
    auth: true,
    params: CONN_PARAMS,
    responses: { 200: { description: 'Counts.', schema: S.CONNECTION_SUMMARY }, 400: badRequest, 401: unauthorized },
    handle: ({ params }, ctx) => ({
      status: 200,
      body: { ...summarizeConnections(scanOf(ctx.store.connections, params, connFilter(params))), lost_events: lostEvents(ctx) },
    }),
  },
  {
    path: '/api/v1/sni',
    summary: 'Recent TLS ClientHello and SYN events',
    description: 'Events of sni receivers from the in-memory window, last received first.',
    tag: 'query',
    auth: true,
    params: [...SNI_PARAMS, limitParam],
    responses: { 200: { description: 'Matching events.', schema: S.SNI_LIST }, 400: badRequest, 401: unauthorized },
    handle: ({ params }, ctx) => list<SniPipelineEvent>(ctx.store.sni, params, sniFilter(params), sniView),
  },
  {
    path: '/api/v1/sni/summary',
    summary: 'Server names counted',
    description: 'ClientHellos per server name (with ports, distinct clients, ECH), SYNs per port, hellos per process.',
    tag: 'query',
    auth: true,
    params: SNI_PARAMS,
    responses: { 200: { description: 'Counts.', schema: S.SNI_SUMMARY }, 400: badRequest, 401: unauthorized },
    handle: ({ params }, ctx) => ({ status: 200, body: { ...summarizeSni(scanOf(ctx.store.sni, params, sniFilter(params))), lost_events: lostEvents(ctx) } }),
  },
];
