// Nomad's service catalogue: GET /v1/services and GET /v1/service/:name.
// Follows hashicorp/nomad:
// - command/agent/service_registration_endpoint.go: /v1/services answers GET only (405 "Invalid
//   method"), an empty list as []; /v1/service/<name> answers GET only (405), "missing service
//   name" (400) for an empty name, "invalid URI" (400) for more than two path parts;
//   /v1/service/<name>/<id> answers DELETE only (405), "missing service id" (400), 200 with no
//   body and X-Nomad-Index.
// - nomad/service_registration_endpoint.go List and GetService: authentication, then read-job in
//   the request's namespace (AllowServiceRegistrationReadList: ACLs off, management, read-job, or a
//   workload identity), else "Permission denied"; List gives [{Namespace, Services: [{ServiceName,
//   Tags}]}] with each name's tags merged as a set, and with namespace "*" only the namespaces the
//   token may read-job in (none: []); GetService gives the ServiceRegistration objects of that name
//   in the namespace; the index is the service_registrations table's, at least 1. DeleteByID:
//   submit-job or delete-service-registration in the namespace (the node-pool fallback for client
//   nodes is not modelled), then the state store's "service registration not found", a plain
//   error (nomad/rpc.go raftApply returns an FSM error as the RPC's): 500.
// - client/serviceregistration/nsd/nsd.go generateNomadServiceRegistration and
//   client/serviceregistration/id.go MakeAllocServiceID: a running allocation's group service of
//   provider "nomad" is registered (ServiceRegistration.Upsert, one Raft write per allocation) as
//   ID "_nomad-task-<alloc ID>-group-<group>-<service>-<port label>", with the node's ID,
//   datacenter and address, the job and allocation IDs, the service's tags, and the port the
//   label maps to; RemoveWorkload deletes them (ServiceRegistration.DeleteByID) when the
//   allocation stops. nomad/state/state_store_service_registration.go: an upsert keeps CreateIndex.
// Simplifications: group services only (no task services, no canary tags, no checks); each port
// label gets the node's next dynamic port from 20000 (no network model); the list's services and
// tags are sorted (Go's map and set iteration order is random); no `choose`, pagination or filter.
import type * as http from 'node:http';
import { blocking } from './blocking';
import { Answer, readMeta, sendJson, type RequestContext } from './http';
import { jobKey, type Alloc, type Cluster, type NomadState, type ServiceRegistration } from './state';

/** What a test seeds directly (double.registerService): a registration no allocation made. */
export type DoubleServiceRegistrationSeed = Omit<ServiceRegistration, 'CreateIndex' | 'ModifyIndex' | 'Namespace' | 'Tags' | 'Datacenter'> & {
  Namespace?: string;
  Tags?: string[];
  Datacenter?: string;
};

/** ServiceRegistration.Upsert through Raft: one index for the batch, CreateIndex kept on update. */
export function upsertServices(state: NomadState, regs: Omit<ServiceRegistration, 'CreateIndex' | 'ModifyIndex'>[]): void {
  if (regs.length === 0) return;
  const idx = state.nextIndex();
  for (const r of regs) {
    const old = state.services.get(r.ID);
    state.services.set(r.ID, { ...r, Tags: r.Tags.slice(), CreateIndex: old?.CreateIndex ?? idx, ModifyIndex: idx });
  }
  state.servicesIndex = idx;
  state.bump();
}

/** ServiceRegistration.DeleteByID, one Raft write per registration (nsd.go removeWorkload). */
export function deleteService(state: NomadState, id: string): boolean {
  if (!state.services.delete(id)) return false;
  state.servicesIndex = state.nextIndex();
  state.bump();
  return true;
}

/** The client's RegisterWorkload for a running allocation's group services of provider "nomad". */
export function registerAllocServices(state: NomadState, a: Alloc): void {
  const group = state.jobs.get(jobKey(a.Namespace, a.JobID))?.TaskGroups.find((g) => g.Name === a.TaskGroup);
  const node = state.nodes.get(a.NodeID);
  if (!group?.Services || !node) return;
  const ports = new Map<string, number>();
  const portOf = (label: string): number => {
    if (label === '') return 0;
    if (!ports.has(label)) ports.set(label, node.nextPort++);
    return ports.get(label)!;
  };
  upsertServices(
    state,
    group.Services.filter((s) => s.Provider === 'nomad').map((s) => ({
      ID: `_nomad-task-${a.ID}-group-${a.TaskGroup}-${s.Name}-${s.PortLabel}`,
      ServiceName: s.Name,
      Namespace: a.Namespace,
      NodeID: node.ID,
      Datacenter: node.Datacenter,
      JobID: a.JobID,
      AllocID: a.ID,
      Tags: s.Tags.slice(),
      Address: node.Address,
      Port: portOf(s.PortLabel),
    })),
  );
}

/** The client's RemoveWorkload: every registration of the allocation. */
export function deregisterAllocServices(state: NomadState, a: Alloc): void {
  for (const r of [...state.services.values()]) if (r.AllocID === a.ID) deleteService(state, r.ID);
}

/** AllowServiceRegistrationReadList. */
function authorizeRead(c: Cluster, token: string | undefined, namespace: string): void {
  c.acl.authenticate(token);
  if (c.acl.claimOf(token)) return; // a workload identity may read every namespace's services
  c.acl.authorize(token, namespace, ['read-job']);
}

const mayRead = (c: Cluster, token: string | undefined, namespace: string): boolean => {
  try {
    c.acl.authorize(token, namespace, ['read-job']);
    return true;
  } catch {
    return false;
  }
};

/** GET /v1/services (ServiceRegistration.List). */
export async function listServices(c: Cluster, res: http.ServerResponse, ctx: RequestContext, method: string): Promise<void> {
  if (method !== 'GET') throw new Answer(405, 'Invalid method');
  const all = ctx.namespace === '*';
  if (all) c.acl.authenticate(ctx.token);
  else authorizeRead(c, ctx.token, ctx.namespace);
  const r = await blocking(c.state, ctx, () => {
    const byNs = new Map<string, Map<string, Set<string>>>();
    for (const s of c.state.services.values()) {
      if (all ? !mayRead(c, ctx.token, s.Namespace) : s.Namespace !== ctx.namespace) continue;
      const names = byNs.get(s.Namespace) ?? new Map<string, Set<string>>();
      byNs.set(s.Namespace, names);
      const tags = names.get(s.ServiceName) ?? new Set<string>();
      names.set(s.ServiceName, tags);
      for (const t of s.Tags) tags.add(t);
    }
    const value = [...byNs.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([Namespace, names]) => ({
        Namespace,
        Services: [...names.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([ServiceName, tags]) => ({ ServiceName, Tags: [...tags].sort() })),
      }));
    return { index: Math.max(1, c.state.servicesIndex), value };
  });
  sendJson(res, 200, r.value, readMeta(r.index, ctx));
}

/** /v1/service/<name> (ServiceRegistration.GetService). */
export async function serviceRequest(c: Cluster, res: http.ServerResponse, ctx: RequestContext, method: string, suffix: string): Promise<void> {
  const parts = suffix.split('/');
  if (parts.length > 2) throw new Answer(400, 'invalid URI');
  if (parts.length === 2) {
    if (method !== 'DELETE') throw new Answer(405, 'Invalid method');
    if (parts[1] === '') throw new Answer(400, 'missing service id');
    c.acl.authenticate(ctx.token);
    c.acl.authorize(ctx.token, ctx.namespace, ['submit-job', 'delete-service-registration']);
    const reg = c.state.services.get(parts[1]);
    if (!reg || reg.Namespace !== ctx.namespace) {
      c.state.nextIndex();
      throw new Answer(500, 'service registration not found');
    }
    deleteService(c.state, reg.ID);
    if (res.destroyed) return;
    res.writeHead(200, { 'X-Nomad-Index': String(c.state.servicesIndex) });
    res.end();
    return;
  }
  if (method !== 'GET') throw new Answer(405, 'Invalid method');
  const name = parts[0];
  if (name === '') throw new Answer(400, 'missing service name');
  authorizeRead(c, ctx.token, ctx.namespace);
  const r = await blocking(c.state, ctx, () => ({
    index: Math.max(1, c.state.servicesIndex),
    value: [...c.state.services.values()]
      .filter((s) => s.Namespace === ctx.namespace && s.ServiceName === name)
      .sort((a, b) => (a.ID < b.ID ? -1 : 1))
      .map((s) => structuredClone(s)),
  }));
  sendJson(res, 200, r.value, readMeta(r.index, ctx));
}
