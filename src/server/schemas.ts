// JSON Schemas (2020-12, as OpenAPI 3.1 uses) of the API's responses. Tests validate real
// responses against them, so the document cannot drift from what the server sends.

type Schema = Record<string, unknown>;

const str: Schema = { type: 'string' };
const int: Schema = { type: 'integer' };
const num: Schema = { type: 'number' };
const bool: Schema = { type: 'boolean' };
const time: Schema = { type: 'string', format: 'date-time' };
const nullable = (s: Schema): Schema => ({ ...s, type: [s.type as string, 'null'] });
const obj = (properties: Record<string, Schema>, extra: Schema = {}): Schema => ({
  type: 'object',
  properties,
  required: Object.keys(properties),
  additionalProperties: false,
  ...extra,
});
const counts: Schema = { type: 'object', additionalProperties: int };
const endpoint = obj({ address: str, port: int });

const process = nullable(obj({ pid: int, executable_name: str, comm: str, command_line: str }));
const container = nullable(obj({ id: nullable(str), runtime: nullable(str), cgroup_path: str, unit: nullable(str) }));
const nomad = nullable(obj({ alloc_id: str, task: str, job: nullable(str), group: nullable(str), namespace: nullable(str) }));

export const CONNECTION_EVENT = obj({
  time,
  time_unix_ms: num,
  receiver: str,
  kind: { enum: ['connect', 'accept', 'state', 'close', 'existing'] },
  transport: { enum: ['tcp', 'udp'] },
  network_type: { enum: ['ipv4', 'ipv6'] },
  direction: { enum: ['outbound', 'inbound', 'unknown'] },
  local: endpoint,
  remote: endpoint,
  state: str,
  previous_state: str,
  process,
  container,
  nomad,
  netns: int,
  socket: { type: 'string', pattern: '^0x[0-9a-f]+$' },
  bytes_sent: int,
  bytes_received: int,
  rtt_us: int,
  retransmits: int,
  duration_s: num,
  error: nullable(str),
});

export const SNI_EVENT = obj({
  time,
  time_unix_ms: num,
  receiver: str,
  kind: { enum: ['client_hello', 'syn'] },
  server_name: nullable(str),
  network_type: { enum: ['ipv4', 'ipv6'] },
  direction: { enum: ['ingress', 'egress'] },
  interface: str,
  ifindex: int,
  netns: int,
  client: endpoint,
  server: endpoint,
  process,
  container,
  nomad,
  ech: bool,
  alpn: { type: 'array', items: str },
  tls_versions: { type: 'array', items: { type: 'string', pattern: '^0x[0-9a-f]{4}$' } },
  sslv2: bool,
});

const listOf = (item: Schema): Schema => obj({ count: int, truncated: bool, events: { type: 'array', items: item } });
export const CONNECTION_LIST = listOf(CONNECTION_EVENT);
export const SNI_LIST = listOf(SNI_EVENT);

const countRow = obj({ name: str, connections: int, open: int, failed: int, events: int });
const lost = { type: 'object', description: 'Events the kernel could not hand over, by receiver (since the agent started).', additionalProperties: int };

export const CONNECTION_SUMMARY = obj({
  events: int,
  connections: int,
  open: int,
  failed: int,
  by_kind: counts,
  by_state: counts,
  by_process: { type: 'array', items: countRow },
  by_container: { type: 'array', items: countRow },
  by_nomad_job: { type: 'array', items: countRow },
  failures: counts,
  lost_events: lost,
});

export const SNI_SUMMARY = obj({
  events: int,
  client_hellos: int,
  syns: int,
  without_name: int,
  by_server_name: { type: 'array', items: obj({ server_name: str, hellos: int, ports: { type: 'array', items: int }, clients: int, ech: int }) },
  syns_by_port: counts,
  by_process: { type: 'array', items: obj({ name: str, hellos: int }) },
  lost_events: lost,
});

const windowStats = obj({ held: int, capacity: int, added: int, evicted: int, max_age_s: num });

export const HEALTH = obj({
  status: { enum: ['ok', 'degraded', 'unhealthy', 'starting', 'stopping'] },
  ready: bool,
  not_ready_reasons: { type: 'array', items: str },
  version: str,
  uptime_s: num,
  started_at: time,
  config: obj({
    generation: int,
    source: str,
    loaded_at: time,
    last_reload: nullable(obj({ time, file: str, applied: bool, problems: { type: 'array', items: str } })),
  }),
  events: obj({ read: int, lost: int, decode_errors: int }),
  receivers: {
    type: 'object',
    additionalProperties: obj({
      type: str,
      status: { enum: ['starting', 'attached', 'failed'] },
      since: time,
      error: nullable(str),
      events_read: int,
      events_lost: int,
      decode_errors: int,
    }),
  },
  exporters: {
    type: 'array',
    items: obj({
      id: str,
      signal: { enum: ['metrics', 'logs'] },
      endpoint: str,
      status: { enum: ['unknown', 'ok', 'failing', 'serving', 'failed'] },
      exports: int,
      failures: int,
      last_success: nullable(time),
      last_error: nullable(obj({ message: str, time })),
    }),
  },
  window: nullable({ type: 'object', additionalProperties: windowStats }),
  caches: nullable({ type: 'object', additionalProperties: obj({ size: int, capacity: int }) }),
});

export const PROBE = obj({ status: str, reasons: { type: 'array', items: str } });

export const ERROR = obj({ error: str, problems: { type: 'array', items: str } });

export const OPENAPI = { type: 'object', description: 'This document.' };
