// Jobs: register, read, list, stop and purge.
// Follows hashicorp/nomad:
// - command/agent/job_endpoint.go jobUpdate: "Job must be specified", "Job ID hasn't been
//   provided", "Job ID does not match name", "Task groups with job type system do not support
//   scaling blocks" (all 400); namespace precedence query > body > Job.Namespace (namespaceForJob).
//   jobQuery: 404 "job not found", with setMeta's headers still set.
// - api/scaling.go ScalingPolicy.Canonicalize and command/agent/scaling_endpoint.go
//   ApiScalingPolicyToStructs: a scaling block without `min` gets the group's count, without `max`
//   gets -1 (then rejected by validation); api/tasks.go TaskGroup.Canonicalize: a group without
//   `count` but with scaling.min gets count = min.
// - api/jobs.go Job.Canonicalize / DefaultUpdateStrategy and api/tasks.go TaskGroup.Canonicalize /
//   DefaultMigrateStrategy: a service job without an `update` block gets max_parallel 1,
//   health_check "checks", min_healthy_time 10s, healthy_deadline 5m, progress_deadline 10m; its
//   groups get the migrate defaults (min_healthy_time 10s). `update { max_parallel = 0 }` turns
//   deployments off.
// - nomad/job_endpoint.go Job.Register runs the admission controllers (validation,
//   job_endpoint_validators.go's nonexistent namespace) BEFORE the submit-job check; their errors
//   are go-multierror lists answered as 500 (structs.go Job.Validate, TaskGroup.validateScalingPolicy).
//   The check accepts submit-job, and from 2.0.0 register-job too (AllowNsOpAnyOf; register-job is
//   one of the finer capabilities of hashicorp/nomad#27287, unknown to older servers).
//   Before them, doRegister's registrationsAreAllowed: with the scheduler configuration's
//   RejectJobRegistration set, any token but a management one gets 403 "Job registration, dispatch,
//   and scale are disabled by the scheduler configuration" (structs/errors.go; with ACLs off every
//   request counts as management). job_endpoint_hooks.go jobValidate adds "total count was greater
//   than configured job_max_count: <n> > <max>" to the list.
//   EnforceIndex: nomad/structs/job.go Job.EnforceIndex. PreserveCounts keeps existing group counts.
//   An unchanged spec writes nothing but still creates an evaluation (Job.Register's "submitted
//   job is unchanged" path).
// - Job.Deregister: an unknown job answers 200 with empty fields; purge needs submit-job or
//   purge-job, stop also accepts deregister-job; nomad/fsm.go handleJobDeregister stores the job
//   with Stop=true (a new version), its scaling policies disabled ("Disable scaling policies to
//   avoid monitoring stopped jobs"), and cancels its deployment. Re-registering it does not turn
//   them back on: the policies are whatever the submitted job says.
// - api/services.go Service.Canonicalize: a group `service` without `provider` is "consul"; only
//   "nomad" ones are registered in Nomad's own catalogue (services.ts).
// - command/agent/job_endpoint.go jobVersions / Job.GetJobVersions: the kept versions newest first
//   (nomad/state/state_store.go upsertJobVersion keeps structs.JobDefaultTrackedVersions, 6);
//   none → 404 "job versions not found".
// - command/agent/http.go: `purge` parsed with strconv.ParseBool, its error a 500.
import { randomUUID } from 'node:crypto';
import type * as http from 'node:http';
import { schedule } from './allocations';
import { blocking } from './blocking';
import { DEPLOYMENT_STOPPED_JOB, endDeployment } from './deployments';
import { multierror, parseGoBool } from './go';
import { Answer, JOB_REGISTRATION_DISABLED, notFoundAfterRead, parseBody, readMeta, sendJson, type RequestContext } from './http';
import {
  jobKey,
  versionAtLeast,
  type Cluster,
  type Group,
  type GroupService,
  type Job,
  type NomadState,
  type MigrateStrategy,
  type NewEvent,
  type Scaling,
  type UpdateStrategy,
} from './state';

export interface DoubleScalingSeed {
  Min?: number;
  Max?: number;
  Enabled?: boolean;
}
/** An `update` block as the API takes it (durations in nanoseconds); unset fields get Nomad's defaults. */
export type DoubleUpdateSeed = Partial<UpdateStrategy>;
export type DoubleMigrateSeed = Partial<MigrateStrategy>;
export interface DoubleGroupSeed {
  Name: string;
  Count?: number;
  Scaling?: DoubleScalingSeed;
  Update?: DoubleUpdateSeed;
  Migrate?: DoubleMigrateSeed;
  /** The group's `service` blocks; `Provider` defaults to "consul" (api/services.go Canonicalize). */
  Services?: DoubleServiceSeed[];
}
export interface DoubleServiceSeed {
  Name: string;
  Provider?: 'consul' | 'nomad';
  Tags?: string[];
  PortLabel?: string;
}
export interface DoubleJobSeed {
  ID: string;
  Namespace?: string;
  Type?: 'service' | 'batch' | 'system';
  TaskGroups: DoubleGroupSeed[];
  Stop?: boolean;
  /** The job's `update` block; a service job without one gets Nomad's default strategy. */
  Update?: DoubleUpdateSeed;
}

/** Job.Register accepts register-job as well as submit-job from this version. */
export const REGISTER_JOB_SINCE = '2.0.0';

const SECOND_NS = 1e9;
/** api/jobs.go DefaultUpdateStrategy: what a service (or system) job without an update block gets. */
export const DEFAULT_UPDATE: UpdateStrategy = {
  Stagger: 30 * SECOND_NS,
  MaxParallel: 1,
  HealthCheck: 'checks',
  MinHealthyTime: 10 * SECOND_NS,
  HealthyDeadline: 300 * SECOND_NS,
  ProgressDeadline: 600 * SECOND_NS,
  AutoRevert: false,
  AutoPromote: false,
  Canary: 0,
};
/** api/tasks.go DefaultMigrateStrategy: health of allocations outside a deployment (service jobs). */
export const DEFAULT_MIGRATE: MigrateStrategy = { MaxParallel: 1, HealthCheck: 'checks', MinHealthyTime: 10 * SECOND_NS, HealthyDeadline: 300 * SECOND_NS };

/**
 * The group's effective update strategy: api/jobs.go Job.Canonicalize (a service or system job
 * without `update` gets DefaultUpdateStrategy; a given one has its unset fields defaulted) and
 * api/tasks.go TaskGroup.Canonicalize (the job's block merged under the group's). Batch jobs
 * have none unless they say so.
 */
function updateFor(type: string, jobUpdate: unknown, groupUpdate: unknown): UpdateStrategy | null {
  const j = jobUpdate as Partial<UpdateStrategy> | null | undefined;
  const g = groupUpdate as Partial<UpdateStrategy> | null | undefined;
  if (!j && !g && type !== 'service' && type !== 'system') return null;
  return { ...DEFAULT_UPDATE, ...(j ?? {}), ...(g ?? {}) };
}

/** A Job topic event (nomad/state/events.go: Key the job ID, Payload {"Job": …}). */
export function jobEvent(type: string, job: Job, deleted = false): NewEvent {
  return { Topic: 'Job', Type: type, Key: job.ID, Namespace: job.Namespace, Payload: deleted ? { Job: job, Deleted: true } : { Job: job } };
}

/** Registers a job as if submitted (canonicalized, validated); its allocations start pending. */
export function seedJob(state: NomadState, seed: DoubleJobSeed): Job {
  const job = canonicalize({ ...seed, TaskGroups: seed.TaskGroups }, seed.Namespace ?? 'default', state.region);
  const problems = validate(state, job);
  if (problems) throw new Error(problems);
  state.namespaces.add(job.Namespace);
  upsertJob(state, job);
  return state.jobs.get(jobKey(job.Namespace, job.ID))!;
}

function canonicalize(j: Record<string, unknown>, namespace: string, region: string): Job {
  const id = j.ID as string;
  const type = (j.Type as string) ?? 'service';
  const groups = ((j.TaskGroups as Record<string, unknown>[] | null) ?? []).map((g): Group => {
    const s = g.Scaling as Record<string, unknown> | null | undefined;
    const name = (g.Name as string) ?? '';
    const count = typeof g.Count === 'number' ? g.Count : s && typeof s.Min === 'number' ? s.Min : 1;
    const scaling: Scaling | null = s
      ? {
          ID: randomUUID(),
          Type: (s.Type as string) || 'horizontal',
          Target: { Namespace: namespace, Job: id, Group: name },
          Min: typeof s.Min === 'number' ? s.Min : count,
          Max: typeof s.Max === 'number' ? s.Max : -1,
          Enabled: typeof s.Enabled === 'boolean' ? s.Enabled : true,
          Policy: null,
          CreateIndex: 0,
          ModifyIndex: 0,
        }
      : null;
    const migrate = type === 'service' ? { ...DEFAULT_MIGRATE, ...((g.Migrate as Partial<MigrateStrategy> | null) ?? {}) } : null;
    const services = ((g.Services as Record<string, unknown>[] | null | undefined) ?? []).map((x): GroupService => ({
      Name: (x.Name as string) ?? '',
      Provider: x.Provider === 'nomad' ? 'nomad' : 'consul',
      Tags: Array.isArray(x.Tags) ? (x.Tags as string[]).slice() : [],
      PortLabel: (x.PortLabel as string) ?? '',
    }));
    return {
      Name: name,
      Count: count,
      Scaling: scaling,
      Update: updateFor(type, j.Update, g.Update),
      Migrate: migrate,
      Services: services.length ? services : null,
    };
  });
  return {
    ID: id,
    Name: (j.Name as string) || id,
    Namespace: namespace,
    Region: region,
    Type: type,
    Priority: typeof j.Priority === 'number' ? j.Priority : 50,
    Stop: j.Stop === true,
    Status: 'pending',
    Version: 0,
    TaskGroups: groups,
    Meta: (j.Meta as Record<string, string>) ?? null,
    CreateIndex: 0,
    ModifyIndex: 0,
    JobModifyIndex: 0,
    SubmitTime: 0,
  };
}

/** Admission validation: the scaling and namespace rules, as a go-multierror text. */
function validate(state: NomadState, job: Job): string | undefined {
  const top: string[] = [];
  if (!state.namespaces.has(job.Namespace)) top.push(`job "${job.ID}" is in nonexistent namespace "${job.Namespace}"`);
  for (const tg of job.TaskGroups) {
    if (job.Type === 'system' && tg.Count > 1) top.push(`Job task group ${tg.Name} has count ${tg.Count}. Count cannot exceed 1 with system scheduler`);
    const s = tg.Scaling;
    if (!s) continue;
    const errs: string[] = [];
    if (s.Max < 0) errs.push('Scaling policy invalid: maximum count must be specified and non-negative');
    else if (s.Max < s.Min) errs.push('Scaling policy invalid: maximum count must not be less than minimum count');
    if (s.Min < 0) errs.push('Scaling policy invalid: minimum count must be specified and non-negative');
    if (s.Max < tg.Count) errs.push('Scaling policy invalid: task group count must not be greater than maximum count in scaling policy');
    if (tg.Count < s.Min) errs.push('Scaling policy invalid: task group count must not be less than minimum count in scaling policy');
    if (errs.length) top.push(`Task group ${tg.Name} validation failed: ${multierror([`Task group scaling policy validation failed: ${multierror(errs)}`])}`);
  }
  const total = job.TaskGroups.reduce((n, g) => n + g.Count, 0);
  const max = state.config.jobMaxCount;
  if (max > 0 && total > max) top.push(`total count was greater than configured job_max_count: ${total} > ${max}`);
  return top.length ? multierror(top) : undefined;
}

function specOf(j: Job): string {
  return JSON.stringify([
    j.Name,
    j.Type,
    j.Priority,
    j.Stop,
    j.Meta,
    j.TaskGroups.map((g) => [g.Name, g.Count, g.Scaling && [g.Scaling.Min, g.Scaling.Max, g.Scaling.Enabled], g.Update, g.Migrate, g.Services]),
  ]);
}

/** Writes a job; returns the index of the write, or undefined when the spec did not change. */
function upsertJob(state: NomadState, job: Job): number | undefined {
  const k = jobKey(job.Namespace, job.ID);
  const old = state.jobs.get(k);
  if (old && specOf(old) === specOf(job)) return undefined;
  const idx = state.nextIndex();
  job.CreateIndex = old?.CreateIndex ?? idx;
  job.Version = old ? old.Version + 1 : 0;
  job.ModifyIndex = idx;
  job.JobModifyIndex = idx;
  job.SubmitTime = Date.now() * 1e6;
  job.Status = old?.Status ?? 'pending';
  for (const g of job.TaskGroups) {
    const prev = old?.TaskGroups.find((p) => p.Name === g.Name)?.Scaling;
    if (g.Scaling) {
      g.Scaling.ID = prev?.ID ?? g.Scaling.ID;
      g.Scaling.CreateIndex = prev?.CreateIndex ?? idx;
      g.Scaling.ModifyIndex = idx;
    }
  }
  state.jobs.set(k, job);
  state.recordVersion(job);
  state.publish(idx, [jobEvent('JobRegistered', job)]);
  state.bump();
  schedule(state, k);
  return idx;
}

/** GET /v1/jobs (Job.List). */
export function listJobs(c: Cluster, res: http.ServerResponse, ctx: RequestContext): void {
  c.acl.authorize(ctx.token, ctx.namespace, ['list-jobs']);
  const jobs = [...c.state.jobs.values()]
    .filter((j) => j.Namespace === ctx.namespace)
    .map((j) => ({
      ID: j.ID,
      Name: j.Name,
      Namespace: j.Namespace,
      Type: j.Type,
      Status: j.Status,
      Stop: j.Stop,
      JobModifyIndex: j.JobModifyIndex,
      ModifyIndex: j.ModifyIndex,
      CreateIndex: j.CreateIndex,
    }));
  sendJson(res, 200, jobs, readMeta(c.state.index, ctx));
}

/** GET /v1/job/:id (Job.GetJob). */
export async function readJob(c: Cluster, res: http.ServerResponse, ctx: RequestContext, id: string): Promise<void> {
  c.acl.authorize(ctx.token, ctx.namespace, ['read-job']);
  const r = await blocking(c.state, ctx, () => {
    const j = c.state.jobs.get(jobKey(ctx.namespace, id));
    return { index: j ? j.ModifyIndex : c.state.index, value: j ? structuredClone(j) : undefined };
  });
  if (!r.value) throw notFoundAfterRead(res, r.index, 'job not found', ctx);
  sendJson(res, 200, r.value, readMeta(r.index, ctx));
}

/** GET /v1/job/:id/versions (Job.GetJobVersions; read-job): newest first; none → 404 "job versions not found". */
export async function jobVersions(c: Cluster, res: http.ServerResponse, ctx: RequestContext, id: string): Promise<void> {
  c.acl.authorize(ctx.token, ctx.namespace, ['read-job']);
  const r = await blocking(c.state, ctx, () => {
    const v = c.state.versions.get(jobKey(ctx.namespace, id)) ?? [];
    return { index: v.length ? Math.max(...v.map((j) => j.ModifyIndex)) : c.state.index, value: v };
  });
  if (r.value.length === 0) throw notFoundAfterRead(res, r.index, 'job versions not found', ctx);
  sendJson(
    res,
    200,
    { Versions: structuredClone(r.value), Diffs: null, Index: r.index, LastContact: 0, KnownLeader: true, NextToken: '' },
    readMeta(r.index, ctx),
  );
}

/** PUT/POST /v1/jobs and /v1/job/:id (Job.Register). */
export function register(c: Cluster, res: http.ServerResponse, ctx: RequestContext, raw: string, urlId: string): void {
  const body = parseBody(raw);
  const apiJob = body.Job as Record<string, unknown> | null | undefined;
  if (!apiJob) throw new Answer(400, 'Job must be specified');
  if (typeof apiJob.ID !== 'string') throw new Answer(400, "Job ID hasn't been provided");
  if (urlId !== '' && apiJob.ID !== urlId) throw new Answer(400, 'Job ID does not match name');
  const groups = (apiJob.TaskGroups as Record<string, unknown>[] | null) ?? [];
  if (apiJob.Type === 'system' && groups.some((g) => g.Scaling)) throw new Answer(400, 'Task groups with job type system do not support scaling blocks');
  const namespace = ctx.q.get('namespace') || (body.Namespace as string) || (apiJob.Namespace as string) || 'default';
  c.acl.authenticate(ctx.token);
  if (c.state.rejectJobRegistration && !c.acl.isManagement(ctx.token)) throw new Answer(403, JOB_REGISTRATION_DISABLED);
  const job = canonicalize(apiJob, namespace, (apiJob.Region as string) || c.state.region);
  const problems = validate(c.state, job);
  if (problems) throw new Answer(500, problems);
  c.acl.authorize(ctx.token, namespace, versionAtLeast(c.state.config.version, REGISTER_JOB_SINCE) ? ['submit-job', 'register-job'] : ['submit-job']);
  const k = jobKey(namespace, job.ID);
  const existing = c.state.jobs.get(k);
  if (body.EnforceIndex === true) {
    const jmi = Number(body.JobModifyIndex ?? 0);
    if (existing && jmi === 0) throw new Answer(500, 'Enforcing job modify index 0: job already exists');
    if (existing && jmi !== existing.JobModifyIndex)
      throw new Answer(500, `Enforcing job modify index ${jmi}: job exists with conflicting job modify index: ${existing.JobModifyIndex}`);
    if (!existing && jmi !== 0) throw new Answer(500, `Enforcing job modify index ${jmi}: job does not exist`);
  }
  if (existing && body.PreserveCounts === true) {
    for (const g of job.TaskGroups) {
      const prev = existing.TaskGroups.find((p) => p.Name === g.Name);
      if (prev) g.Count = prev.Count;
    }
  }
  const writeIndex = upsertJob(c.state, job);
  const evalIndex = writeIndex ?? c.state.nextIndex();
  if (writeIndex === undefined) schedule(c.state, k); // a fresh evaluation runs even when the spec is unchanged
  const stored = c.state.jobs.get(k)!;
  sendJson(
    res,
    200,
    {
      EvalID: randomUUID(),
      EvalCreateIndex: evalIndex,
      JobModifyIndex: stored.JobModifyIndex,
      Warnings: '',
      Index: evalIndex,
      LastContact: 0,
      KnownLeader: false,
      NextToken: '',
    },
    { 'X-Nomad-Index': String(evalIndex) },
  );
}

/** DELETE /v1/job/:id (Job.Deregister): stop, or purge. */
export function deregister(c: Cluster, res: http.ServerResponse, ctx: RequestContext, id: string, url: URL): void {
  const purgeRaw = url.searchParams.get('purge');
  let purge = false;
  if (purgeRaw) {
    const b = parseGoBool(purgeRaw);
    if (b === undefined)
      throw new Answer(500, `Failed to parse value of "purge" (${purgeRaw}) as a bool: strconv.ParseBool: parsing "${purgeRaw}": invalid syntax`);
    purge = b;
  }
  c.acl.authorize(ctx.token, ctx.namespace, purge ? ['submit-job', 'purge-job'] : ['submit-job', 'purge-job', 'deregister-job']);
  const state = c.state;
  const k = jobKey(ctx.namespace, id);
  const job = state.jobs.get(k);
  if (!job) {
    return sendJson(
      res,
      200,
      { EvalID: '', EvalCreateIndex: 0, JobModifyIndex: 0, VolumeEvalID: '', VolumeEvalIndex: 0, Index: 0, LastContact: 0, KnownLeader: false, NextToken: '' },
      { 'X-Nomad-Index': '0' },
    );
  }
  const idx = state.nextIndex();
  if (purge) {
    state.jobs.delete(k);
    state.versions.delete(k);
    state.events.delete(k);
    state.deployments.delete(k);
    state.publish(idx, [jobEvent('JobDeregistered', job, true)]);
  } else {
    job.Stop = true;
    job.Version++;
    job.ModifyIndex = idx;
    job.JobModifyIndex = idx;
    job.SubmitTime = Date.now() * 1e6;
    // nomad/fsm.go handleJobDeregister: "Disable scaling policies to avoid monitoring stopped jobs".
    for (const g of job.TaskGroups)
      if (g.Scaling) {
        g.Scaling.Enabled = false;
        g.Scaling.ModifyIndex = idx;
      }
    state.recordVersion(job);
    state.publish(idx, [jobEvent('JobDeregistered', job)]);
    endDeployment(state, k, 'cancelled', DEPLOYMENT_STOPPED_JOB);
  }
  state.bump();
  schedule(state, k);
  sendJson(
    res,
    200,
    {
      EvalID: randomUUID(),
      EvalCreateIndex: idx,
      JobModifyIndex: idx,
      VolumeEvalID: '',
      VolumeEvalIndex: 0,
      Index: idx,
      LastContact: 0,
      KnownLeader: false,
      NextToken: '',
    },
    { 'X-Nomad-Index': String(idx) },
  );
}
