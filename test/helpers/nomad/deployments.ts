// Deployments.
// Follows hashicorp/nomad:
// - nomad/job_endpoint.go Job.LatestDeployment (GET /v1/job/:id/deployment, read-job): the newest
//   deployment or null; its index is the deployments table's.
// - nomad/structs/structs.go Deployment.Active (running, paused, blocked, unblocking, initializing,
//   pending) and the status descriptions; Job.Scale refuses count changes while the latest
//   deployment is active and belongs to this incarnation of the job (JobCreateIndex).
// - nomad/fsm.go / deploymentwatcher: stopping a job cancels its deployment ("Cancelled because job
//   is stopped"); one whose allocations are all healthy is "Deployment completed successfully".
import { randomUUID } from 'node:crypto';
import type * as http from 'node:http';
import { blocking } from './blocking';
import { readMeta, sendJson, type RequestContext } from './http';
import { jobKey, type Cluster, type Job, type NomadState } from './state';

export const ACTIVE_DEPLOYMENT = new Set(['running', 'paused', 'blocked', 'unblocking', 'initializing', 'pending']);
const DEPLOYMENT_RUNNING = 'Deployment is running';
export const DEPLOYMENT_SUCCESSFUL = 'Deployment completed successfully';
export const DEPLOYMENT_STOPPED_JOB = 'Cancelled because job is stopped';

/** A new deployment for the job's current version; it becomes the latest. */
export function startDeployment(state: NomadState, job: Job, manual: boolean): void {
  const idx = state.nextIndex();
  const k = jobKey(job.Namespace, job.ID);
  state.deployments.set(k, {
    ID: randomUUID(), Namespace: job.Namespace, JobID: job.ID, JobVersion: job.Version, JobModifyIndex: job.JobModifyIndex,
    JobSpecModifyIndex: job.JobModifyIndex, JobCreateIndex: job.CreateIndex, IsMultiregion: false, TaskGroups: null,
    Status: 'running', StatusDescription: DEPLOYMENT_RUNNING, EvalPriority: job.Priority, CreateIndex: idx, ModifyIndex: idx, manual,
  });
  state.deploymentsIndex = idx;
  // Created by the scheduler's plan (ApplyPlanResultsRequestType → "PlanResult").
  publishDeployment(state, k, 'PlanResult');
}

/** A Deployment topic event (nomad/state/events.go: Key the deployment ID, FilterKeys [job ID]). */
function publishDeployment(state: NomadState, k: string, type: string): void {
  const d = state.deployments.get(k);
  if (!d) return;
  const { manual: _m, ...payload } = d;
  state.publish(d.ModifyIndex, [{ Topic: 'Deployment', Type: type, Key: d.ID, Namespace: d.Namespace, FilterKeys: [d.JobID], Payload: { Deployment: payload } }]);
}

export function endDeployment(state: NomadState, k: string, status: string, description: string): void {
  const d = state.deployments.get(k);
  if (!d || !ACTIVE_DEPLOYMENT.has(d.Status)) return;
  const idx = state.nextIndex();
  d.Status = status; d.StatusDescription = description; d.ModifyIndex = idx;
  state.deploymentsIndex = idx;
  publishDeployment(state, k, 'DeploymentStatusUpdate');
}

/** Whether the job's latest deployment blocks a count change (Job.Scale). */
export function blocksScaling(state: NomadState, job: Job): boolean {
  const latest = state.deployments.get(jobKey(job.Namespace, job.ID));
  return latest !== undefined && ACTIVE_DEPLOYMENT.has(latest.Status) && latest.JobCreateIndex === job.CreateIndex;
}

/** The deployment watcher's verdict: every wanted allocation placed and healthy ends the deployment. */
export function completeIfHealthy(state: NomadState, job: Job): void {
  const k = jobKey(job.Namespace, job.ID);
  const d = state.deployments.get(k);
  if (!d || d.manual || !ACTIVE_DEPLOYMENT.has(d.Status)) return;
  const live = state.jobAllocs(job.Namespace, job.ID).filter((a) => a.ClientStatus !== 'complete');
  const wanted = job.TaskGroups.reduce((n, g) => n + (job.Stop ? 0 : g.Count), 0);
  if (live.length === wanted && live.every((a) => a.DeploymentStatus?.Healthy)) endDeployment(state, k, 'successful', DEPLOYMENT_SUCCESSFUL);
}

/** GET /v1/job/:id/deployment (Job.LatestDeployment). */
export async function latestDeployment(c: Cluster, res: http.ServerResponse, ctx: RequestContext, id: string): Promise<void> {
  c.acl.authorize(ctx.token, ctx.namespace, ['read-job']);
  const r = await blocking(c.state, ctx, () => {
    const d = c.state.deployments.get(jobKey(ctx.namespace, id));
    return { index: c.state.deploymentsIndex, value: d ? (({ manual: _m, ...rest }) => structuredClone(rest))(d) : null };
  });
  sendJson(res, 200, r.value, readMeta(r.index));
}
