// What this agent knows of the rules' jobs without asking Nomad: each job's groups' counts, its
// JobModifyIndex (the check-and-set token of a scale), whether it is stopped, and its latest
// deployment — kept by the event-stream followers (event-stream.ts), the reads that resync them,
// and the answers to this agent's own writes. A wake decides from it and writes once.
//
// The check-and-set token is the job's JobModifyIndex, and only these carry it (hashicorp/nomad):
// - GET /v1/job/:job (Job.GetJob, the stored structs.Job);
// - a Job event's Payload.Job (nomad/state/events.go eventFromChange: the stored job after the write);
// - the answer to a scale, JobRegisterResponse.JobModifyIndex: nomad/job_endpoint.go Job.Scale sets
//   it to the index of its raftApply of the job, and nomad/state/state_store.go upsertJobImpl sets
//   the stored job's JobModifyIndex to that same index.
// Not the scale status: Job.ScaleStatus fills its JobModifyIndex with the job's ModifyIndex, which
// allocation and status changes move too; as a token it would conflict.
//
// Every entry is "as of" a Raft index (the job's ModifyIndex when read, the batch's Index when
// streamed, the write's index when written): a view is replaced only by a newer one, so a stream
// that replays or lags, and a read that races it, never set the state back.
import type { JobWriteResponse, NomadDeployment, NomadJob } from './client';
import { ACTIVE_DEPLOYMENT_STATUSES } from './client';

export const warmKey = (namespace: string, job: string): string => `${namespace}\u0000${job}`;

/** The job's latest deployment, as far as it matters to a count change. */
export interface WarmDeployment {
  /** structs.Deployment.Active(): Job.Scale refuses count changes while it is (for this incarnation of the job). */
  readonly active: boolean;
  readonly jobCreateIndex: number;
  /** The deployment's ModifyIndex. */
  readonly index: number;
}

/** One job as the agent knows it. */
export type WarmJob =
  | { readonly kind: 'missing'; readonly index: number }
  | {
      readonly kind: 'present';
      readonly index: number;
      readonly jobModifyIndex: number;
      readonly createIndex: number;
      readonly stopped: boolean;
      /** Count per task group. */
      readonly counts: ReadonlyMap<string, number>;
      /** undefined: not known since the last resync (a write finds out). */
      readonly deployment: WarmDeployment | undefined;
    };

interface Entry {
  job: WarmJob | undefined;
  /** False until read or streamed since its follower went live; false again after a conflict proved it stale. */
  current: boolean;
}

function fromJob(j: NomadJob, index: number, deployment: WarmDeployment | undefined): WarmJob {
  const counts = new Map<string, number>();
  for (const g of j.TaskGroups ?? []) counts.set(g.Name, g.Count ?? 0);
  return {
    kind: 'present',
    index,
    jobModifyIndex: j.JobModifyIndex ?? 0,
    createIndex: j.CreateIndex ?? 0,
    stopped: j.Stop === true,
    counts,
    deployment,
  };
}

export class WarmState {
  private readonly jobs = new Map<string, Entry>();
  /** Namespaces whose follower is live: connected, and every job read since it connected. */
  private readonly live = new Set<string>();
  /** Namespaces whose jobs the token cannot read (read-job): their event stream was refused. */
  private readonly unreadable = new Set<string>();

  constructor(jobs: Iterable<{ namespace: string; job: string }>) {
    for (const j of jobs) this.jobs.set(warmKey(j.namespace, j.job), { job: undefined, current: false });
  }

  /** The job as known now, or undefined when it may be out of date (its follower is not live, or a conflict said so). */
  get(namespace: string, job: string): WarmJob | undefined {
    if (!this.live.has(namespace)) return undefined;
    const e = this.jobs.get(warmKey(namespace, job));
    return e?.current ? e.job : undefined;
  }

  /** The job as last known, current or not (tests, benchmarks). */
  peek(namespace: string, job: string): WarmJob | undefined {
    return this.jobs.get(warmKey(namespace, job))?.job;
  }

  tracks(namespace: string, job: string): boolean {
    return this.jobs.has(warmKey(namespace, job));
  }

  /** A follower connected and read its jobs (true), or lost its stream (false). */
  setLive(namespace: string, live: boolean): void {
    if (live) this.live.add(namespace);
    else {
      this.live.delete(namespace);
      for (const [k, e] of this.jobs) if (k.startsWith(`${namespace}\u0000`)) e.current = false;
    }
  }

  /** Whether the token can read the namespace's jobs, as far as its event stream tells. */
  readable(namespace: string): boolean {
    return !this.unreadable.has(namespace);
  }

  setReadable(namespace: string, readable: boolean): void {
    if (readable) this.unreadable.delete(namespace);
    else this.unreadable.add(namespace);
  }

  /**
   * A Job event (at its batch's index) or a read of the job (at its ModifyIndex). A read forgets
   * the deployment: what the stream said of it may have been missed since.
   */
  job(namespace: string, j: NomadJob, index: number, from: 'event' | 'read'): void {
    const e = this.jobs.get(warmKey(namespace, j.ID));
    if (!e) return;
    if (e.job && e.job.index >= index) {
      // Already as new: a read that races the stream, or a replayed batch, confirms what is known.
      if (e.job.index === index) e.current = true;
      return;
    }
    const keep = from === 'event' && e.job?.kind === 'present' && e.job.createIndex === (j.CreateIndex ?? 0) ? e.job.deployment : undefined;
    e.job = fromJob(j, index, keep);
    e.current = true;
  }

  /** The job is gone (purged: a Job event with Deleted, or a 404 read) as of `index`. */
  missing(namespace: string, job: string, index: number): void {
    const e = this.jobs.get(warmKey(namespace, job));
    if (!e || (e.job && e.job.index >= index)) return;
    e.job = { kind: 'missing', index };
    e.current = true;
  }

  /** A Deployment event, or a read of the job's latest deployment (null: it has none). */
  deployment(namespace: string, job: string, d: NomadDeployment | null): void {
    const e = this.jobs.get(warmKey(namespace, job));
    if (!e || e.job?.kind !== 'present') return;
    if (d === null) {
      e.job = { ...e.job, deployment: undefined };
      return;
    }
    if (e.job.deployment && e.job.deployment.index >= d.ModifyIndex) return;
    e.job = { ...e.job, deployment: { active: ACTIVE_DEPLOYMENT_STATUSES.has(d.Status), jobCreateIndex: d.JobCreateIndex, index: d.ModifyIndex } };
  }

  /**
   * This agent's scale of `group` to `count` went through with the check-and-set on `token`: the
   * job is as before but for that count, at the write's JobModifyIndex (nothing else could be
   * written in between, or the write would have conflicted).
   */
  wrote(namespace: string, job: string, token: number, group: string, count: number, w: JobWriteResponse): void {
    const e = this.jobs.get(warmKey(namespace, job));
    if (!e || e.job?.kind !== 'present' || e.job.jobModifyIndex !== token || w.JobModifyIndex <= e.job.index) return;
    const counts = new Map(e.job.counts);
    counts.set(group, count);
    e.job = { ...e.job, index: w.JobModifyIndex, jobModifyIndex: w.JobModifyIndex, counts };
  }

  /** A write with `token` conflicted: unless something newer came meanwhile, the job must be read again. */
  conflicted(namespace: string, job: string, token: number): void {
    const e = this.jobs.get(warmKey(namespace, job));
    if (e?.job?.kind === 'present' && e.job.jobModifyIndex === token) e.current = false;
  }

  /** Whether a count change of the job would be refused for its active deployment (structs.Deployment.Active, Job.Scale). */
  static deploymentBlocks(j: WarmJob & { kind: 'present' }): boolean {
    return j.deployment !== undefined && j.deployment.active && j.deployment.jobCreateIndex === j.createIndex;
  }
}
