// Scaling: POST /v1/job/:id/scale and GET /v1/job/:id/scale.
// Follows hashicorp/nomad:
// - command/agent/job_endpoint.go jobScaleAction: "Request body is empty" (400), "job ID in
//   payload did not match URL" (400); a Count that is not an int64 fails JSON decoding (400).
// - nomad/job_endpoint.go Job.Scale, in this order: Authenticate failure and missing
//   scale-job/submit-job → "Permission denied" (403); registrationsAreAllowed: the scheduler
//   configuration's RejectJobRegistration refuses any token but a management one with 403 "Job
//   registration, dispatch, and scale are disabled by the scheduler configuration"; structs.go JobScaleRequest.Validate:
//   "namespace in payload did not match header", "missing task group name for scaling action",
//   "scaling action count can't be negative", "scaling action should not contain count if error is
//   true" (400); `job "<id>" not found` (404 — not the "job not found" of the GET handlers);
//   `jobs of type "system" can only be scaled between 0 and 1` (400); `task group "<g>" specified
//   for scaling does not exist in job` (400); min/max only when the group has a scaling block
//   (`if group.Scaling != nil`); "total count was greater than configured job_max_count: <n> >
//   <max>" (a plain error → 500); "job scaling blocked due to active deployment" (400); the
//   JobModifyIndex check-and-set against the snapshot, "Enforcing job modify index <n>: job exists
//   with conflicting job modify index: <m>" (plain → 500; servers from 1.8.2). The job is then
//   committed through Raft as JobRegisterRequest{EnforceIndex: true, JobModifyIndex: <the
//   snapshot's>}; from 2.0.1 the state store checks that index inside the write transaction
//   (upsertJobImpl → structs/job.go Job.EnforceIndex), so of two scales that read the same snapshot
//   the second commit fails with the same 500 naming the snapshot's index; before 2.0.1 both commit
//   and the second overwrites the first with its snapshot's copy (the window is `commitDelayMs`). Job.Scale commits the job even when the count is
//   unchanged, so its version always moves; it does not look at job.Stop (a stopped job's count
//   changes and nothing is placed). An event without Count creates no evaluation and returns the
//   job's ModifyIndex.
// - nomad/state/state_store.go UpsertScalingEvent: newest first, at most
//   structs.JobTrackedScalingEvents (20) per group; recorded only when Job.Scale succeeds.
// - Job.ScaleStatus (read-job or read-job-scaling): Desired is the group count even for a stopped
//   job; terminal and canary allocations are skipped; index = max(non-terminal allocs'
//   ModifyIndex, events index, job ModifyIndex); its JobModifyIndex field is the job's
//   ModifyIndex; an unknown job is a 404 "job not found" at the latest index.
import { randomUUID } from 'node:crypto';
import type * as http from 'node:http';
import { schedule } from './allocations';
import { blocking } from './blocking';
import { blocksScaling } from './deployments';
import { Answer, JOB_REGISTRATION_DISABLED, notFoundAfterRead, parseBody, readMeta, sendJson, type RequestContext } from './http';
import { jobEvent } from './jobs';
import { jobKey, versionAtLeast, type Cluster, type ScalingEvent } from './state';

const TRACKED_SCALING_EVENTS = 20; // structs.JobTrackedScalingEvents
/** ScalingRequest.JobModifyIndex is checked at all (the 1.8.2 / 1.9.0 changelog). */
export const CAS_SINCE = '1.8.2';
/** ...and again inside the state store's write transaction (nomad/state/state_store.go upsertJobImpl → Job.EnforceIndex). */
export const ATOMIC_CAS_SINCE = '2.0.1';

function scaleStatusOf(c: Cluster, k: string): { index: number; value: unknown } {
  const state = c.state;
  const job = state.jobs.get(k);
  if (!job) return { index: state.index, value: undefined };
  const ev = state.events.get(k);
  const groups: Record<string, { Desired: number; Placed: number; Running: number; Healthy: number; Unhealthy: number; Events: ScalingEvent[] | null }> = {};
  for (const g of job.TaskGroups)
    groups[g.Name] = { Desired: g.Count, Placed: 0, Running: 0, Healthy: 0, Unhealthy: 0, Events: ev?.byGroup.get(g.Name)?.map((e) => ({ ...e })) ?? null };
  let allocsIndex = 0;
  for (const a of state.jobAllocs(job.Namespace, job.ID)) {
    if (a.ClientStatus === 'complete' || a.DesiredStatus === 'stop') continue;
    const g = groups[a.TaskGroup];
    if (!g) continue;
    g.Placed++;
    if (a.ClientStatus === 'running') g.Running++;
    if (a.DeploymentStatus && a.DeploymentStatus.Healthy !== null) {
      if (a.DeploymentStatus.Healthy) g.Healthy++;
      else g.Unhealthy++;
    }
    allocsIndex = Math.max(allocsIndex, a.ModifyIndex);
  }
  return {
    index: Math.max(allocsIndex, ev?.modifyIndex ?? 0, job.ModifyIndex),
    value: {
      JobID: job.ID,
      Namespace: job.Namespace,
      JobCreateIndex: job.CreateIndex,
      JobModifyIndex: job.ModifyIndex,
      JobStopped: job.Stop,
      TaskGroups: groups,
    },
  };
}

/** GET /v1/job/:id/scale (Job.ScaleStatus). */
export async function scaleStatus(c: Cluster, res: http.ServerResponse, ctx: RequestContext, id: string): Promise<void> {
  c.acl.authorize(ctx.token, ctx.namespace, ['read-job', 'read-job-scaling']);
  const r = await blocking(c.state, ctx, () => scaleStatusOf(c, jobKey(ctx.namespace, id)));
  if (!r.value) throw notFoundAfterRead(res, r.index, 'job not found', ctx);
  sendJson(res, 200, r.value, readMeta(r.index, ctx));
}

/** POST/PUT /v1/job/:id/scale (Job.Scale). */
export async function scale(c: Cluster, res: http.ServerResponse, ctx: RequestContext, id: string, raw: string): Promise<void> {
  const state = c.state;
  const body = parseBody(raw);
  const target = (body.Target as Record<string, string> | null) ?? {};
  if (target.Job && target.Job !== id) throw new Answer(400, 'job ID in payload did not match URL');
  if (body.Count !== undefined && body.Count !== null && !Number.isInteger(body.Count)) {
    throw new Answer(
      400,
      `json: cannot unmarshal ${typeof body.Count === 'number' ? `number ${body.Count}` : typeof body.Count} into Go struct field ScalingRequest.Count of type int64`,
    );
  }
  const count = body.Count === undefined || body.Count === null ? undefined : (body.Count as number);
  const ns = ctx.namespace;
  c.acl.authorize(ctx.token, ns, ['scale-job', 'submit-job']);
  if (state.rejectJobRegistration && !c.acl.isManagement(ctx.token)) throw new Answer(403, JOB_REGISTRATION_DISABLED);
  // structs.JobScaleRequest.Validate
  if (target.Namespace && target.Namespace !== ns) throw new Answer(400, 'namespace in payload did not match header');
  const groupName = target.Group ?? '';
  if (groupName === '') throw new Answer(400, 'missing task group name for scaling action');
  if (count !== undefined) {
    if (count < 0) throw new Answer(400, "scaling action count can't be negative");
    if (body.Error === true) throw new Answer(400, 'scaling action should not contain count if error is true');
  }
  const k = jobKey(ns, id);
  // The snapshot Job.Scale reads; everything up to the commit is decided on it.
  const live = state.jobs.get(k);
  const snapshot = live && structuredClone(live);
  if (!snapshot) throw new Answer(404, `job "${id}" not found`);
  if (snapshot.Type === 'system' && (count ?? 0) > 1) throw new Answer(400, 'jobs of type "system" can only be scaled between 0 and 1');
  const job = structuredClone(snapshot);
  const group = job.TaskGroups.find((g) => g.Name === groupName);
  if (!group) throw new Answer(400, `task group "${groupName}" specified for scaling does not exist in job`);
  const prevCount = group.Count;
  let evalId: string | null = null;
  let evalIndex = 0;
  let jobModifyIndex = snapshot.ModifyIndex;
  if (count !== undefined) {
    if (group.Scaling) {
      if (count < group.Scaling.Min) throw new Answer(400, `group count was less than scaling policy minimum: ${count} < ${group.Scaling.Min}`);
      if (group.Scaling.Max < count) throw new Answer(400, `group count was greater than scaling policy maximum: ${count} > ${group.Scaling.Max}`);
    }
    const total = job.TaskGroups.reduce((n, g) => n + g.Count, 0) - group.Count + count;
    if (state.config.jobMaxCount > 0 && total > state.config.jobMaxCount)
      throw new Answer(500, `total count was greater than configured job_max_count: ${total} > ${state.config.jobMaxCount}`);
    group.Count = count;
    if (blocksScaling(state, snapshot)) throw new Answer(400, 'job scaling blocked due to active deployment');
    const jmi = Number(body.JobModifyIndex ?? 0);
    if (versionAtLeast(state.config.version, CAS_SINCE) && jmi > 0 && jmi !== snapshot.JobModifyIndex) {
      throw new Answer(500, `Enforcing job modify index ${jmi}: job exists with conflicting job modify index: ${snapshot.JobModifyIndex}`);
    }
    // The Raft apply of JobRegisterRequest{EnforceIndex: true, JobModifyIndex: snapshot's}.
    if (state.config.commitDelayMs > 0) await new Promise((r) => setTimeout(r, state.config.commitDelayMs));
    if (state.stopped) throw new Answer(500, 'raft is already shutdown');
    const current = state.jobs.get(k);
    if (versionAtLeast(state.config.version, ATOMIC_CAS_SINCE)) {
      if (!current) throw new Answer(500, `Enforcing job modify index ${snapshot.JobModifyIndex}: job does not exist`);
      if (current.JobModifyIndex !== snapshot.JobModifyIndex) {
        throw new Answer(500, `Enforcing job modify index ${snapshot.JobModifyIndex}: job exists with conflicting job modify index: ${current.JobModifyIndex}`);
      }
    }
    // Before 2.0.1 the snapshot's copy is written whole: a write that landed meanwhile is lost.
    const stored = current ?? snapshot;
    const idx = state.nextIndex();
    stored.TaskGroups = job.TaskGroups;
    stored.Stop = job.Stop;
    stored.Version = (current ?? snapshot).Version + 1;
    stored.ModifyIndex = idx;
    stored.JobModifyIndex = idx;
    stored.SubmitTime = Date.now() * 1e6;
    state.jobs.set(k, stored);
    state.recordVersion(stored);
    state.publish(idx, [jobEvent('JobRegistered', stored)]);
    jobModifyIndex = idx;
    evalId = randomUUID();
    evalIndex = state.nextIndex();
    schedule(state, k);
  }
  const eventIndex = state.nextIndex();
  const ev = state.events.get(k) ?? { modifyIndex: 0, byGroup: new Map<string, ScalingEvent[]>() };
  ev.modifyIndex = eventIndex;
  const list = [
    {
      Time: Date.now() * 1e6,
      Count: count ?? null,
      PreviousCount: prevCount,
      Message: (body.Message as string) ?? '',
      Error: body.Error === true,
      Meta: (body.Meta as Record<string, unknown>) ?? null,
      EvalID: evalId,
      CreateIndex: eventIndex,
    },
    ...(ev.byGroup.get(groupName) ?? []),
  ].slice(0, TRACKED_SCALING_EVENTS);
  ev.byGroup.set(groupName, list);
  state.events.set(k, ev);
  state.bump();
  sendJson(
    res,
    200,
    {
      EvalID: evalId ?? '',
      EvalCreateIndex: evalIndex,
      JobModifyIndex: jobModifyIndex,
      Warnings: '',
      Index: eventIndex,
      LastContact: 0,
      KnownLeader: false,
      NextToken: '',
    },
    { 'X-Nomad-Index': String(eventIndex) },
  );
}
