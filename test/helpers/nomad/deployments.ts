// Deployments.
// Follows hashicorp/nomad:
// - scheduler/reconciler/reconcile_cluster.go createDeployment: the scheduler creates a deployment
//   for the job's version when a group has an update strategy (max_parallel > 0, structs.go
//   UpdateStrategy.IsEmpty), wants allocations (DesiredTotal > 0), and none of its allocations runs
//   this version yet — so every scale of a service job to a count above 0 starts one (Job.Scale
//   writes a new job version), and registering a job does too. An active deployment of an older
//   version is cancelled, "Cancelled due to newer version of job".
// - nomad/deploymentwatcher: a deployment succeeds ("Deployment completed successfully") when every
//   group has DesiredTotal healthy allocations, and fails ("Failed due to progress deadline") when
//   no allocation turned healthy by RequireProgressBy (the last healthy time + progress_deadline).
// - nomad/job_endpoint.go Job.LatestDeployment (GET /v1/job/:id/deployment, read-job): the newest
//   deployment or null; its index is the deployments table's.
// - nomad/structs/deployment.go Deployment.Active (running, paused, blocked, unblocking,
//   initializing, pending) and the status descriptions; Job.Scale refuses count changes while the
//   latest deployment is active and belongs to this incarnation of the job (JobCreateIndex).
// - nomad/fsm.go: stopping a job cancels its deployment ("Cancelled because job is stopped").
import { randomUUID } from 'node:crypto';
import type * as http from 'node:http';
import { blocking } from './blocking';
import { readMeta, sendJson, type RequestContext } from './http';
import { jobKey, type Cluster, type Deployment, type Job, type NomadState } from './state';

export const ACTIVE_DEPLOYMENT = new Set(['running', 'paused', 'blocked', 'unblocking', 'initializing', 'pending']);
const DEPLOYMENT_RUNNING = 'Deployment is running';
export const DEPLOYMENT_SUCCESSFUL = 'Deployment completed successfully';
export const DEPLOYMENT_STOPPED_JOB = 'Cancelled because job is stopped';
export const DEPLOYMENT_NEWER_JOB = 'Cancelled due to newer version of job';
const DEPLOYMENT_PROGRESS_DEADLINE = 'Failed due to progress deadline';

/** The longest progress deadline of the job's deploying groups, in ms (0: none). */
function progressDeadlineMs(job: Job): number {
  return Math.max(0, ...job.TaskGroups.map((g) => (g.Update && g.Update.MaxParallel > 0 ? g.Update.ProgressDeadline / 1e6 : 0)));
}

/** A new deployment for the job's current version; it becomes the latest. */
export function startDeployment(state: NomadState, job: Job, manual: boolean): Deployment {
  const idx = state.nextIndex();
  const k = jobKey(job.Namespace, job.ID);
  const deadline = progressDeadlineMs(job);
  const d: Deployment = {
    ID: randomUUID(),
    Namespace: job.Namespace,
    JobID: job.ID,
    JobVersion: job.Version,
    JobModifyIndex: job.JobModifyIndex,
    JobSpecModifyIndex: job.JobModifyIndex,
    JobCreateIndex: job.CreateIndex,
    IsMultiregion: false,
    TaskGroups: null,
    Status: 'running',
    StatusDescription: DEPLOYMENT_RUNNING,
    EvalPriority: job.Priority,
    CreateIndex: idx,
    ModifyIndex: idx,
    manual,
    requireProgressBy: deadline > 0 ? Date.now() + deadline : Infinity,
  };
  state.deployments.set(k, d);
  state.deploymentsIndex = idx;
  // Created by the scheduler's plan (ApplyPlanResultsRequestType → "PlanResult").
  publishDeployment(state, k, 'PlanResult');
  if (!manual && deadline > 0) watchProgress(state, k, d);
  return d;
}

/** The deployment watcher's progress check: fail the deployment once RequireProgressBy passes. */
function watchProgress(state: NomadState, k: string, d: Deployment): void {
  state.later(Math.max(0, d.requireProgressBy - Date.now()), () => {
    if (state.deployments.get(k) !== d || !ACTIVE_DEPLOYMENT.has(d.Status)) return;
    if (Date.now() < d.requireProgressBy) return watchProgress(state, k, d);
    endDeployment(state, k, 'failed', DEPLOYMENT_PROGRESS_DEADLINE);
    state.bump();
  });
}

/** An allocation of the deployment turned healthy: progress made, the deadline moves. */
export function progressMade(state: NomadState, job: Job): void {
  const d = state.deployments.get(jobKey(job.Namespace, job.ID));
  const deadline = progressDeadlineMs(job);
  if (d && ACTIVE_DEPLOYMENT.has(d.Status) && deadline > 0) d.requireProgressBy = Date.now() + deadline;
}

/** The deployment as the API shows it, with its per-group state (structs.DeploymentState) counted from the allocations. */
function view(state: NomadState, d: Deployment): Record<string, unknown> {
  const { manual: _m, requireProgressBy, ...rest } = d;
  const job = state.jobs.get(jobKey(d.Namespace, d.JobID));
  const groups: Record<string, unknown> = {};
  for (const g of job?.TaskGroups ?? []) {
    if (!g.Update || g.Update.MaxParallel === 0) continue;
    const mine = state.jobAllocs(d.Namespace, d.JobID).filter((a) => a.DeploymentID === d.ID && a.TaskGroup === g.Name);
    groups[g.Name] = {
      AutoRevert: g.Update.AutoRevert,
      AutoPromote: g.Update.AutoPromote,
      ProgressDeadline: g.Update.ProgressDeadline,
      RequireProgressBy: Number.isFinite(requireProgressBy) ? new Date(requireProgressBy).toISOString() : '0001-01-01T00:00:00Z',
      Promoted: false,
      PlacedCanaries: null,
      DesiredCanaries: 0,
      DesiredTotal: g.Count,
      PlacedAllocs: mine.length,
      HealthyAllocs: mine.filter((a) => a.DeploymentStatus?.Healthy === true).length,
      UnhealthyAllocs: mine.filter((a) => a.DeploymentStatus?.Healthy === false).length,
    };
  }
  return structuredClone({ ...rest, TaskGroups: groups });
}

/** A Deployment topic event (nomad/state/events.go: Key the deployment ID, FilterKeys [job ID]). */
function publishDeployment(state: NomadState, k: string, type: string): void {
  const d = state.deployments.get(k);
  if (!d) return;
  state.publish(d.ModifyIndex, [
    { Topic: 'Deployment', Type: type, Key: d.ID, Namespace: d.Namespace, FilterKeys: [d.JobID], Payload: { Deployment: view(state, d) } },
  ]);
}

export function endDeployment(state: NomadState, k: string, status: string, description: string): void {
  const d = state.deployments.get(k);
  if (!d || !ACTIVE_DEPLOYMENT.has(d.Status)) return;
  const idx = state.nextIndex();
  d.Status = status;
  d.StatusDescription = description;
  d.ModifyIndex = idx;
  state.deploymentsIndex = idx;
  publishDeployment(state, k, 'DeploymentStatusUpdate');
}

/** The job's latest deployment when it is for the job's current version (the reconciler's DeploymentCurrent). */
export function currentDeployment(state: NomadState, job: Job): Deployment | undefined {
  const d = state.deployments.get(jobKey(job.Namespace, job.ID));
  return d && d.JobVersion === job.Version && d.JobCreateIndex === job.CreateIndex ? d : undefined;
}

/** Whether the job's latest deployment blocks a count change (Job.Scale). */
export function blocksScaling(state: NomadState, job: Job): boolean {
  const latest = state.deployments.get(jobKey(job.Namespace, job.ID));
  return latest !== undefined && ACTIVE_DEPLOYMENT.has(latest.Status) && latest.JobCreateIndex === job.CreateIndex;
}

/** The deployment watcher's verdict: every deploying group with DesiredTotal healthy allocations ends it. */
export function completeIfHealthy(state: NomadState, job: Job): void {
  const k = jobKey(job.Namespace, job.ID);
  const d = state.deployments.get(k);
  if (!d || d.manual || !ACTIVE_DEPLOYMENT.has(d.Status) || job.Stop) return;
  const allocs = state.jobAllocs(job.Namespace, job.ID);
  const done = job.TaskGroups.every(
    (g) =>
      !g.Update ||
      g.Update.MaxParallel === 0 ||
      allocs.filter((a) => a.TaskGroup === g.Name && a.DeploymentID === d.ID && a.DesiredStatus === 'run' && a.DeploymentStatus?.Healthy === true).length >=
        g.Count,
  );
  if (done) endDeployment(state, k, 'successful', DEPLOYMENT_SUCCESSFUL);
}

/** GET /v1/job/:id/deployment (Job.LatestDeployment). */
export async function latestDeployment(c: Cluster, res: http.ServerResponse, ctx: RequestContext, id: string): Promise<void> {
  c.acl.authorize(ctx.token, ctx.namespace, ['read-job']);
  const r = await blocking(c.state, ctx, () => {
    const d = c.state.deployments.get(jobKey(ctx.namespace, id));
    return { index: c.state.deploymentsIndex, value: d ? view(c.state, d) : null };
  });
  sendJson(res, 200, r.value, readMeta(r.index, ctx));
}
