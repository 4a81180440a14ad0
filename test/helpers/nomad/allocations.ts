// The scheduler and the allocations it places, and the allocation reads.
// Follows hashicorp/nomad:
// - Evaluations run asynchronously (nomad/eval_broker.go → scheduler/generic_sched.go), so
//   placement happens on a later tick than the write; allocations are named "<job>.<group>[<n>]"
//   with the lowest free index (scheduler/util.go allocNameIndex); surplus ones are stopped with
//   "alloc not needed due to job update" / "alloc not needed since job stopped"
//   (scheduler/reconcile_util.go allocNotNeeded, allocNotNeededStopped... descriptions).
// - Job status follows its allocations (nomad/state/state_store.go setJobStatus → getJobStatus):
//   running when any runs, dead when stopped and none left, else pending; a status change moves the
//   job's ModifyIndex, not its JobModifyIndex.
// - Job.Allocations (read-job; index = the allocs table's; unknown job → []); GET
//   /v1/allocation/:id → 404 "alloc not found" (command/agent/alloc_endpoint.go allocGet); an alloc
//   the token may not read → `Unknown allocation "<id>"` (nomad/alloc_endpoint.go GetAlloc; → 500).
// - In-place updates (scheduler/reconciler: a new job version whose groups did not change
//   destructively) move running allocations to the new version; in a new deployment they are
//   judged healthy again.
// - Placement only on ready nodes (structs.Node.Ready); with none, the allocation is not placed and
//   the evaluation waits (nomad/blocked_evals.go) until a node becomes ready, when every job is
//   reconciled again.
// - The client registers a running allocation's `provider = "nomad"` group services and removes
//   them when it stops it (client/serviceregistration/nsd: RegisterWorkload, RemoveWorkload; see
//   services.ts).
// Simplifications: no drivers, tasks or checks; nodes are taken in turn (round-robin over ready
// nodes, see nodes.ts); every placed alloc turns running after `pendingDelayMs`, and healthy
// min_healthy_time later (see watchHealth).
import { randomUUID } from 'node:crypto';
import type * as http from 'node:http';
import { blocking } from './blocking';
import { ACTIVE_DEPLOYMENT, completeIfHealthy, currentDeployment, DEPLOYMENT_NEWER_JOB, endDeployment, progressMade, startDeployment } from './deployments';
import { parseGoBool } from './go';
import { Answer, notFoundAfterRead, readMeta, sendJson, type RequestContext } from './http';
import { nodeReady } from './nodes';
import { deregisterAllocServices, registerAllocServices } from './services';
import { jobKey, type Alloc, type Cluster, type Deployment, type DoubleNodeRecord, type Group, type Job, type NomadState } from './state';

/** The scheduler's turn comes on a later tick, as evaluations are processed asynchronously. */
export function schedule(state: NomadState, k: string): void {
  state.later(0, () => reconcile(state, k));
}

/** A node became ready: the blocked evaluations of every job run again. */
export function scheduleAll(state: NomadState): void {
  for (const k of state.jobs.keys()) schedule(state, k);
}

/** The next ready node in turn, or undefined when none is ready. */
function pickNode(state: NomadState): DoubleNodeRecord | undefined {
  const nodes = [...state.nodes.values()];
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[(state.nodeCursor + i) % nodes.length];
    if (nodeReady(n)) {
      state.nodeCursor = (state.nodeCursor + i + 1) % nodes.length;
      return n;
    }
  }
  return undefined;
}

function reconcile(state: NomadState, k: string): void {
  const job = state.jobs.get(k);
  const [ns, id] = k.split('\u0000');
  const live = state.jobAllocs(ns, id).filter((a) => a.DesiredStatus === 'run');
  const groups = job?.TaskGroups ?? [];
  let changed = false;
  const idx = state.index + 1;
  for (const a of live) {
    const g = groups.find((x) => x.Name === a.TaskGroup);
    const want = !job || job.Stop || !g ? 0 : g.Count;
    const mine = live.filter((x) => x.TaskGroup === a.TaskGroup).sort((x, y) => x.slot - y.slot);
    if (mine.indexOf(a) >= want) {
      stopAlloc(state, a, idx, job?.Stop ? 'alloc not needed since job stopped' : 'alloc not needed due to job update');
      changed = true;
    }
  }
  const deployment = job && !job.Stop ? deploymentFor(state, job, live) : undefined;
  for (const g of job && !job.Stop ? groups : []) {
    const mine = live.filter((a) => a.TaskGroup === g.Name && a.DesiredStatus === 'run');
    const deploying = deployment && g.Update && g.Update.MaxParallel > 0 ? deployment.ID : null;
    // In-place updates: the survivors move to the new version and join its deployment, which judges their health anew.
    for (const a of mine) {
      if (a.JobVersion === job!.Version) continue;
      a.JobVersion = job!.Version;
      a.ModifyIndex = idx;
      a.AllocModifyIndex = idx;
      changed = true;
      if (deploying && a.DeploymentID !== deploying) {
        a.DeploymentID = deploying;
        a.DeploymentStatus = null;
        if (a.ClientStatus === 'running') watchHealth(state, a);
      }
    }
    const used = new Set(mine.map((a) => a.slot));
    for (let slot = 0, n = mine.length; n < g.Count; slot++) {
      if (used.has(slot)) continue;
      const node = pickNode(state);
      if (!node) break; // no ready node: the evaluation is blocked
      place(state, job!, g, slot, idx, deploying, node);
      n++;
      changed = true;
    }
  }
  if (changed) {
    state.index = idx;
    state.allocsIndex = idx;
  }
  refreshStatus(state, k);
  state.bump();
}

/** The deployment of the job's current version: the existing one, or a new one when createDeployment would make it. */
function deploymentFor(state: NomadState, job: Job, live: Alloc[]): Deployment | undefined {
  const current = currentDeployment(state, job);
  if (current) return ACTIVE_DEPLOYMENT.has(current.Status) ? current : undefined;
  const k = jobKey(job.Namespace, job.ID);
  const latest = state.deployments.get(k);
  if (latest && ACTIVE_DEPLOYMENT.has(latest.Status)) endDeployment(state, k, 'cancelled', DEPLOYMENT_NEWER_JOB);
  // System jobs' deployments (reconcile_node.go) are not modelled.
  if (job.Type !== 'service') return undefined;
  const wanted = job.TaskGroups.some(
    (g) => g.Update && g.Update.MaxParallel > 0 && g.Count > 0 && !live.some((a) => a.TaskGroup === g.Name && a.JobVersion === job.Version),
  );
  return wanted ? startDeployment(state, job, false) : undefined;
}

function place(state: NomadState, job: Job, g: Group, slot: number, idx: number, deploymentId: string | null, node: DoubleNodeRecord): void {
  const now = Date.now() * 1e6;
  const a: Alloc = {
    ID: randomUUID(),
    EvalID: randomUUID(),
    Name: `${job.ID}.${g.Name}[${slot}]`,
    Namespace: job.Namespace,
    NodeID: node.ID,
    NodeName: node.Name,
    JobID: job.ID,
    JobVersion: job.Version,
    TaskGroup: g.Name,
    DeploymentID: deploymentId,
    DesiredStatus: 'run',
    DesiredDescription: '',
    ClientStatus: 'pending',
    DeploymentStatus: null,
    CreateIndex: idx,
    ModifyIndex: idx,
    AllocModifyIndex: idx,
    CreateTime: now,
    ModifyTime: now,
    slot,
  };
  state.allocs.set(a.ID, a);
  const byJob = state.allocsByJob.get(jobKey(a.Namespace, a.JobID));
  if (byJob) byJob.push(a);
  else state.allocsByJob.set(jobKey(a.Namespace, a.JobID), [a]);
  state.later(state.pendingDelayMs, () => {
    if (a.DesiredStatus !== 'run') return;
    const i = state.nextIndex();
    a.ClientStatus = 'running';
    a.ModifyIndex = i;
    a.ModifyTime = Date.now() * 1e6;
    state.allocsIndex = i;
    refreshStatus(state, jobKey(a.Namespace, a.JobID));
    registerAllocServices(state, a);
    state.bump();
    watchHealth(state, a);
  });
}

/**
 * The client's health watcher (client/allocrunner/health_hook.go): in a deployment the group's
 * update strategy judges health (none at all with health_check "manual": an operator sets it),
 * outside one its migrate strategy; batch jobs are never judged. With no checks modelled, an
 * allocation is healthy once it has run for min_healthy_time (client/allochealth/tracker.go).
 */
function watchHealth(state: NomadState, a: Alloc): void {
  const job = state.jobs.get(jobKey(a.Namespace, a.JobID));
  const g = job?.TaskGroups.find((x) => x.Name === a.TaskGroup);
  if (!job || !g) return;
  let minHealthyNs: number;
  if (a.DeploymentID !== null) {
    if (!g.Update || g.Update.MaxParallel === 0 || g.Update.HealthCheck === 'manual') return;
    minHealthyNs = g.Update.MinHealthyTime;
  } else {
    if (!g.Migrate) return;
    minHealthyNs = g.Migrate.MinHealthyTime;
  }
  const deploymentId = a.DeploymentID;
  state.later(minHealthyNs / 1e6, () => {
    if (a.DesiredStatus !== 'run' || a.ClientStatus !== 'running' || a.DeploymentID !== deploymentId) return;
    const i = state.nextIndex();
    a.DeploymentStatus = { Healthy: true, Canary: false, Timestamp: new Date().toISOString(), ModifyIndex: i };
    a.ModifyIndex = i;
    a.ModifyTime = Date.now() * 1e6;
    state.allocsIndex = i;
    if (deploymentId !== null) progressMade(state, job);
    refreshStatus(state, jobKey(a.Namespace, a.JobID));
    state.bump();
  });
}

function stopAlloc(state: NomadState, a: Alloc, idx: number, why: string): void {
  if (a.ClientStatus === 'running') deregisterAllocServices(state, a);
  a.DesiredStatus = 'stop';
  a.DesiredDescription = why;
  a.ClientStatus = 'complete';
  a.ModifyIndex = idx;
  a.AllocModifyIndex = idx;
  a.ModifyTime = Date.now() * 1e6;
}

/** Job status follows its allocations; a healthy set ends the running deployment. */
function refreshStatus(state: NomadState, k: string): void {
  const job = state.jobs.get(k);
  if (!job) return;
  const mine = state.jobAllocs(job.Namespace, job.ID).filter((a) => a.ClientStatus !== 'complete');
  const status = mine.some((a) => a.ClientStatus === 'running') ? 'running' : job.Stop && mine.length === 0 ? 'dead' : 'pending';
  completeIfHealthy(state, job);
  if (status !== job.Status) {
    job.Status = status;
    job.ModifyIndex = state.nextIndex();
  }
}

function stub(a: Alloc): Record<string, unknown> {
  const { slot: _slot, AllocModifyIndex: _ami, ...rest } = a;
  return structuredClone(rest);
}

/** GET /v1/job/:id/allocations (Job.Allocations). */
export async function jobAllocations(c: Cluster, res: http.ServerResponse, ctx: RequestContext, id: string): Promise<void> {
  c.acl.authorize(ctx.token, ctx.namespace, ['read-job']);
  const all = parseGoBool(ctx.q.get('all') ?? '') ?? false;
  void all; // the double keeps no job versions of other CreateIndex, so `all` changes nothing
  const r = await blocking(c.state, ctx, () => ({
    index: c.state.allocsIndex,
    value: c.state.jobAllocs(ctx.namespace, id).map((a) => stub(a)),
  }));
  sendJson(res, 200, r.value, readMeta(r.index, ctx));
}

/** GET /v1/allocation/:id (Alloc.GetAlloc). */
export async function readAlloc(c: Cluster, res: http.ServerResponse, ctx: RequestContext, id: string): Promise<void> {
  c.acl.authenticate(ctx.token);
  const r = await blocking(c.state, ctx, () => {
    const a = c.state.allocs.get(id);
    return { index: a ? a.ModifyIndex : c.state.allocsIndex, value: a };
  });
  if (!r.value) throw notFoundAfterRead(res, r.index, 'alloc not found', ctx);
  try {
    c.acl.authorize(ctx.token, r.value.Namespace, ['read-job']);
  } catch {
    throw new Answer(500, `Unknown allocation "${id}"`);
  }
  sendJson(res, 200, { ...stub(r.value), AllocModifyIndex: r.value.AllocModifyIndex, TaskStates: {} }, readMeta(r.index, ctx));
}
