// Client nodes: GET /v1/nodes and GET /v1/node/:id, and the nodes the scheduler places on.
// Follows hashicorp/nomad:
// - command/agent/node_endpoint.go NodesRequest (any method but GET: 405 "Invalid method";
//   parseNodeListStubFields: `resources` and `os` parsed with strconv.ParseBool, a bad value 400
//   "Failed to parse node list fields: Failed to parse value of "os" (x) as a bool:
//   strconv.ParseBool: parsing "x": invalid syntax"); nodeQuery (404 "node not found" after
//   setMeta).
// - nomad/node_endpoint.go Node.List (node:read, acl/acl.go AllowNodeRead: management, ACLs off, or
//   a `node` policy of read or write; `prefix` on the ID; index = the nodes table's) and
//   Node.GetNode ("missing node ID", a plain error: 500; node:read — the node-pool fallback
//   AllowClientOp is not modelled; index = the node's ModifyIndex, else the table's; the SecretID
//   sanitized away).
// - nomad/structs/structs.go Node.Stub (NodeListStub: Address is HTTPAddr's host, Version the
//   "nomad.version" attribute, Drain whether a DrainStrategy is set; Attributes only {"os.name"}
//   and only with ?os=true) and Node.Ready (status ready, no drain, eligible): only ready nodes
//   get allocations.
// Simplifications: no resources, drivers, drains, heartbeats or node pools' ACLs; a node that goes
// down keeps its allocations (Nomad would mark them lost and replace them); the scheduler takes
// ready nodes in turn (round-robin, see allocations.ts) where Nomad ranks a shuffled sample by
// bin-packing, so tests can tell in advance where an allocation lands.
import type * as http from 'node:http';
import { blocking } from './blocking';
import { parseGoBool } from './go';
import { Answer, notFoundAfterRead, readMeta, sendJson, type RequestContext } from './http';
import type { Cluster, DoubleNodeRecord, NomadState } from './state';

/** A node as a test seeds it; everything but the ID has a default. */
export interface DoubleNodeSeed {
  ID: string;
  Name?: string;
  Datacenter?: string;
  NodePool?: string;
  NodeClass?: string;
  /** The address its HTTP API and its services' addresses use (default 127.0.0.1). */
  Address?: string;
  Status?: DoubleNodeRecord['Status'];
  SchedulingEligibility?: DoubleNodeRecord['SchedulingEligibility'];
  Meta?: Record<string, string>;
  Attributes?: Record<string, string>;
}

/** The node a double has when the test names none (the ID the single-node double always used). */
export const DEFAULT_NODE: DoubleNodeSeed = { ID: 'f0d1c2b3-0000-4000-8000-000000000001', Name: 'double-node' };
const MIN_DYNAMIC_PORT = 20000; // client.min_dynamic_port default (structs.DefaultMinDynamicPort)

/** Node.Register: a new node, or an update of the one with its ID (at `atIndex` for the double's initial nodes). */
export function upsertNode(state: NomadState, seed: DoubleNodeSeed, atIndex?: number): DoubleNodeRecord {
  const idx = atIndex ?? state.nextIndex();
  const old = state.nodes.get(seed.ID);
  const name = seed.Name ?? old?.Name ?? `node-${seed.ID.slice(0, 8)}`;
  const address = seed.Address ?? old?.Address ?? '127.0.0.1';
  const node: DoubleNodeRecord = {
    ID: seed.ID,
    Name: name,
    Datacenter: seed.Datacenter ?? old?.Datacenter ?? 'dc1',
    NodePool: seed.NodePool ?? old?.NodePool ?? 'default',
    NodeClass: seed.NodeClass ?? old?.NodeClass ?? '',
    Address: address,
    Status: seed.Status ?? old?.Status ?? 'ready',
    SchedulingEligibility: seed.SchedulingEligibility ?? old?.SchedulingEligibility ?? 'eligible',
    Attributes: {
      'nomad.version': state.config.version,
      'os.name': 'linux',
      'unique.hostname': name,
      'unique.network.ip-address': address,
      ...(seed.Attributes ?? old?.Attributes ?? {}),
    },
    Meta: { ...(seed.Meta ?? old?.Meta ?? {}) },
    CreateIndex: old?.CreateIndex ?? idx,
    ModifyIndex: idx,
    nextPort: old?.nextPort ?? MIN_DYNAMIC_PORT,
  };
  state.nodes.set(node.ID, node);
  state.nodesIndex = idx;
  state.bump();
  return node;
}

/** structs.Node.Ready (no drains are modelled). */
export const nodeReady = (n: DoubleNodeRecord): boolean => n.Status === 'ready' && n.SchedulingEligibility === 'eligible';

function stub(n: DoubleNodeRecord, os: boolean): Record<string, unknown> {
  return {
    Address: n.Address,
    ID: n.ID,
    ...(os ? { Attributes: { 'os.name': n.Attributes['os.name'] ?? '' } } : {}),
    Datacenter: n.Datacenter,
    Name: n.Name,
    NodePool: n.NodePool,
    NodeClass: n.NodeClass,
    Version: n.Attributes['nomad.version'] ?? '',
    Drain: false,
    SchedulingEligibility: n.SchedulingEligibility,
    Status: n.Status,
    StatusDescription: '',
    Drivers: {},
    HostVolumes: null,
    LastDrain: null,
    CreateIndex: n.CreateIndex,
    ModifyIndex: n.ModifyIndex,
  };
}

/** The part of structs.Node the double has, SecretID sanitized. */
function full(n: DoubleNodeRecord): Record<string, unknown> {
  return {
    ID: n.ID,
    SecretID: '',
    Datacenter: n.Datacenter,
    Name: n.Name,
    HTTPAddr: `${n.Address}:4646`,
    TLSEnabled: false,
    Attributes: { ...n.Attributes },
    Meta: { ...n.Meta },
    NodeClass: n.NodeClass,
    NodePool: n.NodePool,
    DrainStrategy: null,
    SchedulingEligibility: n.SchedulingEligibility,
    Status: n.Status,
    StatusDescription: '',
    Drivers: {},
    HostVolumes: null,
    LastDrain: null,
    CreateIndex: n.CreateIndex,
    ModifyIndex: n.ModifyIndex,
  };
}

function stubField(q: URLSearchParams, field: string): boolean {
  const raw = q.get(field);
  if (!raw) return false;
  const v = parseGoBool(raw);
  if (v === undefined)
    throw new Answer(
      400,
      `Failed to parse node list fields: Failed to parse value of ${JSON.stringify(field)} (${raw}) as a bool: strconv.ParseBool: parsing ${JSON.stringify(raw)}: invalid syntax`,
    );
  return v;
}

/** GET /v1/nodes (Node.List). */
export async function listNodes(c: Cluster, res: http.ServerResponse, ctx: RequestContext, method: string): Promise<void> {
  if (method !== 'GET') throw new Answer(405, 'Invalid method');
  stubField(ctx.q, 'resources');
  const os = stubField(ctx.q, 'os');
  c.acl.authorizeNodeRead(ctx.token);
  const prefix = ctx.q.get('prefix') ?? '';
  const r = await blocking(c.state, ctx, () => ({
    index: c.state.nodesIndex,
    value: [...c.state.nodes.values()]
      .filter((n) => n.ID.startsWith(prefix))
      .sort((a, b) => (a.ID < b.ID ? -1 : 1))
      .map((n) => stub(n, os)),
  }));
  sendJson(res, 200, r.value, readMeta(r.index, ctx));
}

/** GET /v1/node/:id (Node.GetNode). */
export async function readNode(c: Cluster, res: http.ServerResponse, ctx: RequestContext, method: string, id: string): Promise<void> {
  if (method !== 'GET') throw new Answer(405, 'Invalid method');
  c.acl.authenticate(ctx.token);
  if (id === '') throw new Answer(500, 'missing node ID');
  c.acl.authorizeNodeRead(ctx.token);
  const r = await blocking(c.state, ctx, () => {
    const n = c.state.nodes.get(id);
    return n ? { index: n.ModifyIndex, value: full(n) } : { index: c.state.nodesIndex, value: undefined };
  });
  if (!r.value) throw notFoundAfterRead(res, r.index, 'node not found', ctx);
  sendJson(res, 200, r.value, readMeta(r.index, ctx));
}
