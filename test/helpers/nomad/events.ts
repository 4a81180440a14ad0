// The event stream: GET /v1/event/stream.
// Follows hashicorp/nomad:
// - command/agent/event_endpoint.go EventStream: `index` parsed with strconv.Atoi ("Unable to parse
//   index: …", 400); `topic` as Topic or Topic:Key, any other form "Invalid topic query: error
//   parsing topics: Invalid key value pair for topic, topic: …" (400); no topic means all ("*:*");
//   the answer is 200, Content-Type application/json, one JSON object per line.
// - nomad/event_endpoint.go Event.Stream: the token authenticated, then every topic asked for
//   checked in every namespace the request covers (validateACL, validateNsOp; "*" is each
//   namespace there is): read-job for Job, Deployment, Allocation, Evaluation, Service and
//   CSIPlugin, host-volume-read for HostVolume, csi-read-volume for CSIVolume; Node, Operator and
//   Variable need policy blocks the double's tokens cannot hold (node, operator, variables), so
//   only a management token passes them here, as it alone passes NodePool, "*" (all topics, what
//   no topic means) and any other topic; any refusal is "Permission denied". The first line is a
//   heartbeat `{}` and another follows every 30 s (stream.NewJsonStream), so a silent stream is a
//   dead one; a batch is {"Index": n, "Events": [...]}; batches filtered to nothing are not sent.
// - nomad/stream/event_broker.go Subscribe and event_buffer.go StartAtClosest: index 0 starts at the
//   buffer's head (the oldest batch kept); a later index starts at the first batch at or after it;
//   an index older than the head starts at the head without an error — the events in between are
//   gone (an overrun the subscriber can only see from the gap). The buffer keeps
//   event_buffer_size (100) batches.
// - nomad/stream/subscription.go filter: a namespace other than the request's (or "*") is dropped;
//   an event matches a topic key by its Key or one of its FilterKeys (a deployment's job ID).
// - nomad/state/events.go: a job write is a Job event keyed by the job ID, Payload {"Job": …}; a
//   deployment change is a Deployment event keyed by its ID with the job ID as filter key,
//   Payload {"Deployment": …}.
// Faults for tests: NomadState.streamsSilent withholds every line (heartbeats too) from open
// streams, as a connection that died without a FIN would; the 'drop' signal on
// NomadState.streamControl closes every open stream (a server restarting or leaving).
import type * as http from 'node:http';
import { Answer, type RequestContext } from './http';
import type { Cluster, StreamBatch, StreamEvent } from './state';

/** The namespace capability each topic needs (validateNsOp); a topic not here needs a management token in the double. */
const TOPIC_CAPABILITY: Readonly<Record<string, string>> = {
  Deployment: 'read-job',
  Evaluation: 'read-job',
  Allocation: 'read-job',
  Job: 'read-job',
  Service: 'read-job',
  CSIPlugin: 'read-job',
  HostVolume: 'host-volume-read',
  CSIVolume: 'csi-read-volume',
};

/** validateACL: each topic in each namespace the request covers. */
function authorizeTopics(c: Cluster, ctx: RequestContext, topics: Map<string, string[]>): void {
  const namespaces = ctx.namespace === '*' ? [...c.state.namespaces] : [ctx.namespace];
  for (const ns of namespaces) {
    for (const topic of topics.keys()) {
      const capability = TOPIC_CAPABILITY[topic];
      if (capability) c.acl.authorize(ctx.token, ns, [capability]);
      else c.acl.authorizeManagement(ctx.token);
    }
  }
}

function parseTopics(q: URLSearchParams): Map<string, string[]> {
  const raw = q.getAll('topic');
  const topics = new Map<string, string[]>();
  if (raw.length === 0) return new Map([['*', ['*']]]);
  for (const t of raw) {
    const parts = t.split(':');
    if (parts.length > 2) throw new Answer(400, `Invalid topic query: error parsing topics: Invalid key value pair for topic, topic: ${t}`);
    const [k, v] = parts.length === 1 ? [t, '*'] : parts;
    topics.set(k, [...(topics.get(k) ?? []), v]);
  }
  return topics;
}

function filter(events: StreamEvent[], topics: Map<string, string[]>, namespace: string): StreamEvent[] {
  const all = topics.get('*') ?? [];
  return events.filter((e) => {
    if (e.Namespace !== '' && namespace !== '*' && e.Namespace !== namespace) return false;
    const keys = [...all, ...(topics.get(e.Topic) ?? [])];
    return keys.some((k) => k === '*' || e.Key === k || (e.FilterKeys ?? []).includes(k));
  });
}

/** GET /v1/event/stream: streams until the client goes away or the double stops. */
export function eventStream(c: Cluster, res: http.ServerResponse, ctx: RequestContext): void {
  const indexRaw = ctx.q.get('index') || '0';
  if (!/^[-+]?\d+$/.test(indexRaw)) throw new Answer(400, `Unable to parse index: strconv.Atoi: parsing "${indexRaw}": invalid syntax`);
  const index = Number(indexRaw);
  const topics = parseTopics(ctx.q);
  c.acl.authenticate(ctx.token);
  authorizeTopics(c, ctx, topics);
  const state = c.state;
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache' });
  const send = (b: StreamBatch): void => {
    const events = filter(b.Events, topics, ctx.namespace);
    if (events.length > 0 && !res.destroyed && !state.streamsSilent) res.write(`${JSON.stringify({ Index: b.Index, Events: events })}\n`);
  };
  const heartbeat = (): void => {
    if (!res.destroyed && !state.streamsSilent) res.write('{}\n');
  };
  heartbeat();
  // StartAtClosest: index 0 → the head; otherwise the first batch at or after `index`.
  for (const b of state.eventBuffer) if (index === 0 || b.Index >= index) send(b);
  state.published.on('batch', send);
  const timer = setInterval(heartbeat, state.config.eventHeartbeatMs);
  const end = (): void => {
    clearInterval(timer);
    state.published.off('batch', send);
    state.changes.off('stopped', end);
    state.streamControl.off('drop', drop);
    if (!res.destroyed) res.end();
  };
  const drop = (): void => {
    end();
    res.destroy();
  };
  state.changes.on('stopped', end);
  state.streamControl.on('drop', drop);
  res.on('close', end);
}
