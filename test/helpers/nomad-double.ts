// A Nomad HTTP API double for tests: jobs, scaling, allocations, blocking queries, ACLs,
// namespaces and fault injection, modelled on Nomad's documented API and its source.
//
// Where each behaviour, status and error text comes from (hashicorp/nomad, main branch):
// - 404 "job not found" on GET /v1/job/:id and GET /v1/job/:id/scale, with the X-Nomad-Index
//   header still set: command/agent/job_endpoint.go jobQuery / jobScaleStatus (setMeta runs first).
// - POST /v1/job/:id/scale body checks: "Request body is empty" (http.go decodeBody, 400);
//   "job ID in payload did not match URL" (job_endpoint.go jobScaleAction, 400).
// - Scale RPC, in this order: nomad/job_endpoint.go Job.Scale — Authenticate failure and missing
//   scale-job/submit-job → structs.ErrPermissionDenied "Permission denied" (403 via http.go wrap);
//   then structs.go JobScaleRequest.Validate: "namespace in payload did not match header" (400),
//   "missing task group name for scaling action" (400), "scaling action count can't be negative"
//   (400), "scaling action should not contain count if error is true" (400); then Job.Scale:
//   `job "<id>" not found` (404 — note: NOT the "job not found" text of the GET handlers),
//   `jobs of type "system" can only be scaled between 0 and 1` (400),
//   `task group "<g>" specified for scaling does not exist in job` (400),
//   "group count was less than scaling policy minimum: <n> < <min>" (400),
//   "group count was greater than scaling policy maximum: <n> > <max>" (400),
//   "job scaling blocked due to active deployment" (400),
//   "Enforcing job modify index <n>: job exists with conflicting job modify index: <m>" (plain → 500).
//   Min/max are checked ONLY when the group has a scaling block (`if group.Scaling != nil`):
//   a group with no scaling block may be scaled to 0 from any count. Job.Scale does not look at
//   job.Stop: scaling a stopped job succeeds, updates the count, and nothing is placed.
// - A scaling block without `min` gets min = the group's count at registration
//   (api/scaling.go ScalingPolicy.Canonicalize; command/agent/scaling_endpoint.go
//   ApiScalingPolicyToStructs), and without `max` gets -1, rejected by structs.go
//   ScalingPolicy.Validate / TaskGroup.validateScalingPolicy ("Scaling policy invalid: …").
//   A group without `count` but with scaling.min gets count = min (api/tasks.go TaskGroup.Canonicalize).
// - Scaling events: nomad/state/state_store.go UpsertScalingEvent — newest first, at most
//   structs.JobTrackedScalingEvents (20) per group; recorded only when Job.Scale succeeds; an
//   event without Count creates no evaluation and returns the job's ModifyIndex.
// - Scale status: Job.ScaleStatus — Desired is the group count even for a stopped job; terminal
//   and canary allocations are skipped; index = max(non-terminal allocs' ModifyIndex, events
//   index, job ModifyIndex); unknown job → nil status at the latest index. Read needs read-job or
//   read-job-scaling (job_endpoint.go Job.ScaleStatus).
// - Deployments: GET /v1/job/:id/deployment is Job.LatestDeployment (read-job; the newest
//   deployment or null; index = the deployment table's). Job.Scale refuses count changes while the
//   latest deployment is Active() (running, paused, blocked, unblocking, initializing, pending) and
//   belongs to this incarnation of the job (JobCreateIndex); stopping a job cancels its deployment
//   ("Cancelled because job is stopped"); a finished one is "Deployment completed successfully".
// - Allocations: Job.Allocations (read-job; index = the allocs table index; unknown job → []);
//   GET /v1/allocation/:id → 404 "alloc not found" (command/agent/alloc_endpoint.go allocGet); an
//   alloc the token may not read → `Unknown allocation "<id>"` (alloc_endpoint.go GetAlloc; plain → 500).
// - Register: command/agent/job_endpoint.go jobUpdate — "Job must be specified", "Job ID hasn't
//   been provided", "Job ID does not match name", "Task groups with job type system do not
//   support scaling blocks" (all 400); namespace precedence query > body > Job.Namespace
//   (namespaceForJob). nomad/job_endpoint.go Job.Register runs admission controllers (validation,
//   nonexistent namespace: job_endpoint_validators.go `job "<id>" is in nonexistent namespace "<ns>"`)
//   BEFORE the submit-job check; their errors are go-multierror lists answered as 500.
// - Deregister: Job.Deregister — unknown job answers 200 with empty fields; purge needs
//   submit-job or purge-job, stop also accepts deregister-job.
// - Blocking queries: nomad/rpc.go blockingRPC + structs.go QueryOptions.TimeToBlock — no
//   `index` → answer at once; default and maximum wait 300s; jitter up to wait/16
//   (JitterFraction); returns when the result's index > `index`, else the last result at timeout.
//   "Invalid wait time" / "Invalid index" 400 (command/agent/http.go parseWait).
// - Headers: setMeta sets X-Nomad-Index, X-Nomad-LastContact, X-Nomad-KnownLeader on reads;
//   writes set only X-Nomad-Index (setIndex). Errors are text/plain bodies (http.go wrap).
// - Tokens: X-Nomad-Token, else "Authorization: Bearer" (http.go parseToken). Any token that fails
//   authentication (unknown, malformed, expired) → "Permission denied" 403, because every RPC maps
//   an Authenticate error to ErrPermissionDenied (nomad/auth/auth.go Authenticate).
// - Policies read/write/scale expand as acl/policy.go expandNamespacePolicy.
// - Unknown region → 500 "No path to region" (nomad/rpc.go forwardRegion, structs/errors.go).
// - "Invalid method" 405 (http.go ErrInvalidMethod).
// Simplifications: no tasks, drivers, nodes or evaluations are simulated (EvalIDs are minted);
// placement happens on the next tick after a change; every placed alloc reports health when it
// starts running; register validation text follows go-multierror's layout for the scaling and
// namespace errors only. HTTP basic auth is checked only when `basicAuth` is set (it models a
// proxy in front of Nomad: Nomad itself ignores basic auth), answering 401.
import { createHash, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

export interface DoubleScalingSeed { Min?: number; Max?: number; Enabled?: boolean }
export interface DoubleGroupSeed { Name: string; Count?: number; Scaling?: DoubleScalingSeed }
export interface DoubleJobSeed {
  ID: string;
  Namespace?: string;
  Type?: 'service' | 'batch' | 'system';
  TaskGroups: DoubleGroupSeed[];
  Stop?: boolean;
}

/** One namespace rule of an ACL policy: a shorthand `policy` and/or explicit `capabilities`. */
export interface DoubleNamespaceRule { namespace: string; policy?: 'deny' | 'read' | 'write' | 'scale'; capabilities?: string[] }
export interface DoubleToken { secretId: string; management?: boolean; rules?: DoubleNamespaceRule[]; expired?: boolean }

export interface NomadDoubleOptions {
  /** Serve HTTPS with this key pair (PEM); `ca` + `requestCert` demand a client certificate. */
  tls?: { cert: string | Buffer; key: string | Buffer; ca?: string | Buffer; requestCert?: boolean };
  acl?: boolean;
  tokens?: DoubleToken[];
  region?: string;
  namespaces?: string[];
  basicAuth?: { username: string; password: string };
  pendingDelayMs?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: unknown;
  at: number;
}

interface Scaling { ID: string; Type: string; Target: Record<string, string>; Min: number; Max: number; Enabled: boolean; Policy: null; CreateIndex: number; ModifyIndex: number }
interface Group { Name: string; Count: number; Scaling: Scaling | null }
interface Job {
  ID: string; Name: string; Namespace: string; Region: string; Type: string; Priority: number;
  Stop: boolean; Status: string; Version: number; TaskGroups: Group[]; Meta: Record<string, string> | null;
  CreateIndex: number; ModifyIndex: number; JobModifyIndex: number; SubmitTime: number;
}
interface ScalingEvent {
  Time: number; Count: number | null; PreviousCount: number; Message: string; Error: boolean;
  Meta: Record<string, unknown> | null; EvalID: string | null; CreateIndex: number;
}
interface Alloc {
  ID: string; EvalID: string; Name: string; Namespace: string; NodeID: string; NodeName: string;
  JobID: string; JobVersion: number; TaskGroup: string; DesiredStatus: 'run' | 'stop';
  DesiredDescription: string; ClientStatus: 'pending' | 'running' | 'complete';
  DeploymentStatus: { Healthy: boolean | null; Canary: boolean; Timestamp: string; ModifyIndex: number } | null;
  CreateIndex: number; ModifyIndex: number; AllocModifyIndex: number; CreateTime: number; ModifyTime: number;
  slot: number;
}

interface Deployment {
  ID: string; Namespace: string; JobID: string; JobVersion: number; JobModifyIndex: number; JobSpecModifyIndex: number;
  JobCreateIndex: number; IsMultiregion: boolean; TaskGroups: null; Status: string; StatusDescription: string;
  EvalPriority: number; CreateIndex: number; ModifyIndex: number;
  /** Set by setActiveDeployment: ends only when the test says so, not on health. */
  manual: boolean;
}

/** A coded answer, like Nomad's CodedError / RPC coded errors. */
class Answer extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

const PERMISSION_DENIED = 'Permission denied';
// structs.Deployment.Active and the status descriptions (nomad/structs/structs.go).
const ACTIVE_DEPLOYMENT = new Set(['running', 'paused', 'blocked', 'unblocking', 'initializing', 'pending']);
const DEPLOYMENT_RUNNING = 'Deployment is running';
const DEPLOYMENT_SUCCESSFUL = 'Deployment completed successfully';
const DEPLOYMENT_STOPPED_JOB = 'Cancelled because job is stopped';
const TRACKED_SCALING_EVENTS = 20; // structs.JobTrackedScalingEvents
const MAX_BLOCK_MS = 300_000; // structs.MaxBlockingRPCQueryTime and DefaultBlockingRPCQueryTime
const JITTER_FRACTION = 16; // structs.JitterFraction
const NODE_ID = 'f0d1c2b3-0000-4000-8000-000000000001';

const READ_CAPS = ['list-jobs', 'parse-job', 'read-job', 'csi-list-volume', 'csi-read-volume', 'read-job-scaling', 'list-scaling-policies', 'read-scaling-policy', 'host-volume-read'];
const WRITE_CAPS = [...READ_CAPS, 'scale-job', 'submit-job', 'dispatch-job', 'read-logs', 'read-fs', 'alloc-exec', 'alloc-lifecycle', 'csi-mount-volume', 'csi-write-volume', 'submit-recommendation', 'host-volume-create'];
const SCALE_CAPS = ['list-scaling-policies', 'read-scaling-policy', 'read-job-scaling', 'scale-job', 'read-job', 'submit-recommendation'];

/** A stable, non-reversible fingerprint of a token, as recorded in place of the token itself. */
export function tokenHash(token: string): string {
  return `sha256:${createHash('sha256').update(token).digest('hex').slice(0, 16)}`;
}

/** go-multierror's default ListFormatFunc, so nested validation texts read like Nomad's. */
function multierror(errors: string[]): string {
  if (errors.length === 1) return `1 error occurred:\n\t* ${errors[0]}\n\n`;
  return `${errors.length} errors occurred:\n\t${errors.map((e) => `* ${e}`).join('\n\t')}\n\n`;
}

/** Go's time.ParseDuration, returning milliseconds, or undefined when Go would fail. */
export function parseGoDuration(s: string): number | undefined {
  if (s === '0' || s === '+0' || s === '-0') return 0;
  const m = /^([-+]?)((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/.exec(s);
  if (!m) return undefined;
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const part of m[2].matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) total += Number(part[1]) * unit[part[2]];
  return m[1] === '-' ? -total : total;
}

const jobKey = (ns: string, id: string): string => `${ns}\u0000${id}`;

export class NomadDouble {
  readonly region: string;
  private server!: http.Server;
  private sockets = new Set<Socket>();
  private index = 10;
  private allocsIndex = 0;
  private readonly namespaces: Set<string>;
  private readonly jobs = new Map<string, Job>();
  private readonly events = new Map<string, { modifyIndex: number; byGroup: Map<string, ScalingEvent[]> }>();
  private readonly allocs = new Map<string, Alloc>();
  /** The same allocations by job (the state store's allocs-by-job index), so reads do not scan them all. */
  private readonly allocsByJob = new Map<string, Alloc[]>();
  /** The latest deployment of each job (Nomad keeps them all; the API reads the latest). */
  private readonly deployments = new Map<string, Deployment>();
  private deploymentsIndex = 0;
  private readonly deployOnScale = new Set<string>();
  private readonly tokens = new Map<string, DoubleToken>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly changes = new EventEmitter();
  private readonly log: RecordedRequest[] = [];
  private aclEnabled: boolean;
  private pendingDelayMs: number;
  private faults: { failCount: number; failStatus: number; failBody: string; failFor?: RequestMatch; latencyMs: number; latencyFor?: RequestMatch; resetCount: number } = {
    failCount: 0, failStatus: 500, failBody: 'injected fault', latencyMs: 0, resetCount: 0,
  };
  private stopped = false;
  private connectionCount = 0;
  url = '';
  port = 0;

  private constructor(private readonly opts: NomadDoubleOptions) {
    this.region = opts.region ?? 'global';
    this.namespaces = new Set(['default', ...(opts.namespaces ?? [])]);
    this.aclEnabled = opts.acl ?? false;
    this.pendingDelayMs = opts.pendingDelayMs ?? 20;
    for (const t of opts.tokens ?? []) this.tokens.set(t.secretId, t);
    this.changes.setMaxListeners(0);
  }

  /** Starts a double on 127.0.0.1 on a free port. */
  static async start(opts: NomadDoubleOptions = {}): Promise<NomadDouble> {
    const d = new NomadDouble(opts);
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => void d.handle(req, res);
    d.server = opts.tls
      ? https.createServer({ cert: opts.tls.cert, key: opts.tls.key, ca: opts.tls.ca, requestCert: opts.tls.requestCert ?? false, rejectUnauthorized: opts.tls.requestCert ?? false }, handler)
      : http.createServer(handler);
    d.server.on(opts.tls ? 'secureConnection' : 'connection', (s: Socket) => {
      d.connectionCount++;
      d.sockets.add(s);
      s.on('close', () => d.sockets.delete(s));
    });
    await new Promise<void>((resolve) => d.server.listen(0, '127.0.0.1', resolve));
    d.port = (d.server.address() as AddressInfo).port;
    d.url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${d.port}`;
    return d;
  }

  // ---- seeding and fault injection -------------------------------------------------------

  /** Registers a job as if submitted (canonicalized, validated); its allocations start pending. */
  addJob(seed: DoubleJobSeed): Job {
    const job = this.canonicalize({ ...seed, TaskGroups: seed.TaskGroups }, seed.Namespace ?? 'default', this.region);
    const problems = this.validate(job);
    if (problems) throw new Error(problems);
    this.namespaces.add(job.Namespace);
    this.upsertJob(job);
    return this.jobs.get(jobKey(job.Namespace, job.ID))!;
  }

  addNamespace(name: string): void { this.namespaces.add(name); }
  addToken(token: DoubleToken): void { this.tokens.set(token.secretId, token); }
  setAcl(enabled: boolean): void { this.aclEnabled = enabled; }
  setPendingDelay(ms: number): void { this.pendingDelayMs = ms; }
  /** The next `n` requests (or those matching `only`) answer `status` with `body` (recorded, never handled). */
  failNext(n: number, status = 500, body = 'injected fault', only?: RequestMatch): void { this.faults = { ...this.faults, failCount: n, failStatus: status, failBody: body, failFor: only }; }
  /**
   * Every later request (or only those matching `only`) waits `ms` before it is handled (0 turns
   * it off). A client that gives up meanwhile does not stop it: like Nomad, the request is still
   * carried out.
   */
  delay(ms: number, only?: RequestMatch): void { this.faults.latencyMs = ms; this.faults.latencyFor = only; }
  /** The next `n` requests have their connection destroyed instead of an answer. */
  resetNext(n: number): void { this.faults.resetCount = n; }
  /** Marks the job's latest deployment active (or not), which blocks count changes. */
  setActiveDeployment(jobId: string, active: boolean, namespace = 'default'): void {
    const k = jobKey(namespace, jobId);
    if (active) {
      const job = this.jobs.get(k);
      if (!job) throw new Error(`no job ${jobId} in namespace ${namespace}`);
      this.startDeployment(job, true);
    } else this.endDeployment(k, 'successful', DEPLOYMENT_SUCCESSFUL);
    this.bump();
  }
  /** Like a group with an `update` block: each count change starts a deployment that stays active until every placed alloc is healthy. */
  setDeploymentOnScale(jobId: string, on: boolean, namespace = 'default'): void {
    if (on) this.deployOnScale.add(jobKey(namespace, jobId)); else this.deployOnScale.delete(jobKey(namespace, jobId));
  }

  requests(): RecordedRequest[] { return this.log.slice(); }
  clearRequests(): void { this.log.length = 0; }
  /** Count of recorded requests matching a method and a path (string equality or RegExp). */
  count(method: string, path: string | RegExp): number {
    return this.log.filter((r) => r.method === method && (typeof path === 'string' ? r.path === path : path.test(r.path))).length;
  }

  /** The stored job (a copy), for assertions. */
  job(id: string, namespace = 'default'): Job | undefined {
    const j = this.jobs.get(jobKey(namespace, id));
    return j ? structuredClone(j) : undefined;
  }
  allocations(id: string, namespace = 'default'): Alloc[] {
    return this.jobAllocs(namespace, id).map((a) => structuredClone(a));
  }
  currentIndex(): number { return this.index; }
  /** How many connections (TLS: completed handshakes) the double has accepted. */
  connections(): number { return this.connectionCount; }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.changes.emit('change');
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- state ---------------------------------------------------------------------------

  private jobAllocs(namespace: string, id: string): Alloc[] { return this.allocsByJob.get(jobKey(namespace, id)) ?? []; }

  private nextIndex(): number { return ++this.index; }
  private bump(): void { this.changes.emit('change'); }

  /** A new deployment for the job's current version; it becomes the latest. */
  private startDeployment(job: Job, manual: boolean): void {
    const idx = this.nextIndex();
    this.deployments.set(jobKey(job.Namespace, job.ID), {
      ID: randomUUID(), Namespace: job.Namespace, JobID: job.ID, JobVersion: job.Version, JobModifyIndex: job.JobModifyIndex,
      JobSpecModifyIndex: job.JobModifyIndex, JobCreateIndex: job.CreateIndex, IsMultiregion: false, TaskGroups: null,
      Status: 'running', StatusDescription: DEPLOYMENT_RUNNING, EvalPriority: job.Priority, CreateIndex: idx, ModifyIndex: idx, manual,
    });
    this.deploymentsIndex = idx;
  }

  private endDeployment(k: string, status: string, description: string): void {
    const d = this.deployments.get(k);
    if (!d || !ACTIVE_DEPLOYMENT.has(d.Status)) return;
    const idx = this.nextIndex();
    d.Status = status; d.StatusDescription = description; d.ModifyIndex = idx;
    this.deploymentsIndex = idx;
  }

  private canonicalize(j: Record<string, unknown>, namespace: string, region: string): Job {
    const id = j.ID as string;
    const type = (j.Type as string) ?? 'service';
    const groups = ((j.TaskGroups as Record<string, unknown>[] | null) ?? []).map((g): Group => {
      const s = g.Scaling as Record<string, unknown> | null | undefined;
      const name = (g.Name as string) ?? '';
      const count = typeof g.Count === 'number' ? g.Count : (s && typeof s.Min === 'number' ? s.Min : 1);
      const scaling: Scaling | null = s ? {
        ID: randomUUID(), Type: (s.Type as string) || 'horizontal',
        Target: { Namespace: namespace, Job: id, Group: name },
        Min: typeof s.Min === 'number' ? s.Min : count, Max: typeof s.Max === 'number' ? s.Max : -1,
        Enabled: typeof s.Enabled === 'boolean' ? s.Enabled : true, Policy: null, CreateIndex: 0, ModifyIndex: 0,
      } : null;
      return { Name: name, Count: count, Scaling: scaling };
    });
    return {
      ID: id, Name: (j.Name as string) || id, Namespace: namespace, Region: region, Type: type,
      Priority: typeof j.Priority === 'number' ? j.Priority : 50, Stop: j.Stop === true, Status: 'pending',
      Version: 0, TaskGroups: groups, Meta: (j.Meta as Record<string, string>) ?? null,
      CreateIndex: 0, ModifyIndex: 0, JobModifyIndex: 0, SubmitTime: 0,
    };
  }

  /** Admission validation: the scaling and namespace rules, as a go-multierror text. */
  private validate(job: Job): string | undefined {
    const top: string[] = [];
    if (!this.namespaces.has(job.Namespace)) top.push(`job "${job.ID}" is in nonexistent namespace "${job.Namespace}"`);
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
    return top.length ? multierror(top) : undefined;
  }

  private specOf(j: Job): string {
    return JSON.stringify([j.Name, j.Type, j.Priority, j.Stop, j.Meta, j.TaskGroups.map((g) => [g.Name, g.Count, g.Scaling && [g.Scaling.Min, g.Scaling.Max, g.Scaling.Enabled]])]);
  }

  /** Writes a job; returns the index of the write, or undefined when the spec did not change. */
  private upsertJob(job: Job): number | undefined {
    const k = jobKey(job.Namespace, job.ID);
    const old = this.jobs.get(k);
    if (old && this.specOf(old) === this.specOf(job)) return undefined;
    const idx = this.nextIndex();
    job.CreateIndex = old?.CreateIndex ?? idx;
    job.Version = old ? old.Version + 1 : 0;
    job.ModifyIndex = idx;
    job.JobModifyIndex = idx;
    job.SubmitTime = Date.now() * 1e6;
    job.Status = old?.Status ?? 'pending';
    for (const g of job.TaskGroups) {
      const prev = old?.TaskGroups.find((p) => p.Name === g.Name)?.Scaling;
      if (g.Scaling) { g.Scaling.ID = prev?.ID ?? g.Scaling.ID; g.Scaling.CreateIndex = prev?.CreateIndex ?? idx; g.Scaling.ModifyIndex = idx; }
    }
    this.jobs.set(k, job);
    this.bump();
    this.schedule(k);
    return idx;
  }

  /** The scheduler's turn comes on a later tick, as evaluations are processed asynchronously. */
  private schedule(k: string): void {
    const t = setTimeout(() => { this.timers.delete(t); this.reconcile(k); }, 0);
    this.timers.add(t);
  }

  private reconcile(k: string): void {
    if (this.stopped) return;
    const job = this.jobs.get(k);
    const [ns, id] = k.split('\u0000');
    const live = this.jobAllocs(ns, id).filter((a) => a.DesiredStatus === 'run');
    const groups = job?.TaskGroups ?? [];
    let changed = false;
    const idx = this.index + 1;
    for (const a of live) {
      const g = groups.find((x) => x.Name === a.TaskGroup);
      const want = !job || job.Stop || !g ? 0 : g.Count;
      const mine = live.filter((x) => x.TaskGroup === a.TaskGroup).sort((x, y) => x.slot - y.slot);
      if (mine.indexOf(a) >= want) { this.stopAlloc(a, idx, job?.Stop ? 'alloc not needed since job stopped' : 'alloc not needed due to job update'); changed = true; }
    }
    for (const g of job && !job.Stop ? groups : []) {
      const mine = live.filter((a) => a.TaskGroup === g.Name && a.DesiredStatus === 'run');
      const used = new Set(mine.map((a) => a.slot));
      for (let slot = 0, n = mine.length; n < g.Count; slot++) {
        if (used.has(slot)) continue;
        this.place(job!, g, slot, idx);
        n++; changed = true;
      }
    }
    if (changed) { this.index = idx; this.allocsIndex = idx; }
    this.refreshStatus(k);
    this.bump();
  }

  private place(job: Job, g: Group, slot: number, idx: number): void {
    const now = Date.now() * 1e6;
    const a: Alloc = {
      ID: randomUUID(), EvalID: randomUUID(), Name: `${job.ID}.${g.Name}[${slot}]`, Namespace: job.Namespace,
      NodeID: NODE_ID, NodeName: 'double-node', JobID: job.ID, JobVersion: job.Version, TaskGroup: g.Name,
      DesiredStatus: 'run', DesiredDescription: '', ClientStatus: 'pending', DeploymentStatus: null,
      CreateIndex: idx, ModifyIndex: idx, AllocModifyIndex: idx, CreateTime: now, ModifyTime: now, slot,
    };
    this.allocs.set(a.ID, a);
    const byJob = this.allocsByJob.get(jobKey(a.Namespace, a.JobID));
    if (byJob) byJob.push(a); else this.allocsByJob.set(jobKey(a.Namespace, a.JobID), [a]);
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (this.stopped || a.DesiredStatus !== 'run') return;
      const i = this.nextIndex();
      a.ClientStatus = 'running';
      a.DeploymentStatus = { Healthy: true, Canary: false, Timestamp: new Date().toISOString(), ModifyIndex: i };
      a.ModifyIndex = i; a.ModifyTime = Date.now() * 1e6;
      this.allocsIndex = i;
      this.refreshStatus(jobKey(a.Namespace, a.JobID));
      this.bump();
    }, this.pendingDelayMs);
    this.timers.add(t);
  }

  private stopAlloc(a: Alloc, idx: number, why: string): void {
    a.DesiredStatus = 'stop'; a.DesiredDescription = why; a.ClientStatus = 'complete';
    a.ModifyIndex = idx; a.AllocModifyIndex = idx; a.ModifyTime = Date.now() * 1e6;
  }

  /** Job status follows its allocations (a status change moves the job's ModifyIndex, not JobModifyIndex). */
  private refreshStatus(k: string): void {
    const job = this.jobs.get(k);
    if (!job) return;
    const mine = this.jobAllocs(job.Namespace, job.ID).filter((a) => a.ClientStatus !== 'complete');
    const status = mine.some((a) => a.ClientStatus === 'running') ? 'running' : job.Stop && mine.length === 0 ? 'dead' : 'pending';
    const d = this.deployments.get(k);
    if (d && !d.manual && ACTIVE_DEPLOYMENT.has(d.Status) && mine.every((a) => a.DeploymentStatus?.Healthy) && mine.length === job.TaskGroups.reduce((n, g) => n + (job.Stop ? 0 : g.Count), 0)) {
      this.endDeployment(k, 'successful', DEPLOYMENT_SUCCESSFUL);
    }
    if (status !== job.Status) { job.Status = status; job.ModifyIndex = this.nextIndex(); }
  }

  // ---- HTTP ----------------------------------------------------------------------------

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://double');
    this.record(req, url, raw);

    if (this.faults.resetCount > 0) { this.faults.resetCount--; req.socket.destroy(); return; }
    if (this.faults.failCount > 0 && matchesRequest(this.faults.failFor, req, url)) {
      this.faults.failCount--;
      return this.sendText(res, this.faults.failStatus, this.faults.failBody);
    }
    if (this.faults.latencyMs > 0 && matchesRequest(this.faults.latencyFor, req, url)) {
      await new Promise((r) => setTimeout(r, this.faults.latencyMs));
    }

    try {
      if (this.opts.basicAuth && !this.basicAuthOk(req)) {
        res.setHeader('WWW-Authenticate', 'Basic realm="nomad"');
        return this.sendText(res, 401, 'Unauthorized');
      }
      await this.route(req, res, url, raw);
    } catch (e) {
      if (e instanceof Answer) return this.sendText(res, e.status, e.message);
      this.sendText(res, 500, e instanceof Error ? e.message : String(e));
    }
  }

  private record(req: http.IncomingMessage, url: URL, raw: string): void {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      const value = Array.isArray(v) ? v.join(', ') : v ?? '';
      if (k === 'x-nomad-token') headers[k] = tokenHash(value);
      else if (k === 'authorization') headers[k] = value.toLowerCase().startsWith('basic ') ? `Basic <redacted user=${this.basicUser(value)}>` : `Bearer ${tokenHash(value.replace(/^bearer\s+/i, ''))}`;
      else headers[k] = value;
    }
    let body: unknown = raw === '' ? undefined : raw;
    try { if (raw !== '') body = JSON.parse(raw); } catch { /* keep the raw text */ }
    let path = url.pathname;
    try { path = decodeURIComponent(path); } catch { /* keep the encoded path */ }
    this.log.push({ method: req.method ?? 'GET', path, query: Object.fromEntries(url.searchParams), headers, body, at: Date.now() });
  }

  private basicUser(h: string): string { return Buffer.from(h.slice(6), 'base64').toString('utf8').split(':')[0]; }
  private basicAuthOk(req: http.IncomingMessage): boolean {
    const h = req.headers.authorization ?? '';
    if (!h.toLowerCase().startsWith('basic ')) return false;
    const [u, ...p] = Buffer.from(h.slice(6), 'base64').toString('utf8').split(':');
    return u === this.opts.basicAuth!.username && p.join(':') === this.opts.basicAuth!.password;
  }

  private sendText(res: http.ServerResponse, status: number, text: string): void {
    if (res.destroyed) return;
    res.writeHead(status, { 'Content-Type': 'text/plain' });
    res.end(text);
  }
  private sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
    if (res.destroyed) return;
    res.writeHead(status, { ...headers, 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  }
  private readMeta(index: number): Record<string, string> {
    return { 'X-Nomad-Index': String(index), 'X-Nomad-LastContact': '0', 'X-Nomad-KnownLeader': 'true' };
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse, url: URL, raw: string): Promise<void> {
    const method = req.method ?? 'GET';
    let path = url.pathname;
    try { path = decodeURIComponent(path); } catch { throw new Answer(400, 'invalid path encoding'); }
    const ctx = this.context(req, url);
    if (path === '/v1/jobs') {
      if (method === 'PUT' || method === 'POST') return this.register(res, ctx, raw, '');
      if (method === 'GET') return this.listJobs(res, ctx);
      throw new Answer(405, 'Invalid method');
    }
    if (path.startsWith('/v1/job/')) {
      const rest = path.slice('/v1/job/'.length);
      if (rest.endsWith('/scale')) {
        const id = rest.slice(0, -'/scale'.length);
        if (method === 'GET') return this.scaleStatus(res, ctx, id);
        if (method === 'PUT' || method === 'POST') return this.scale(res, ctx, id, raw);
        throw new Answer(405, 'Invalid method');
      }
      if (rest.endsWith('/deployment')) {
        if (method !== 'GET') throw new Answer(405, 'Invalid method');
        return this.latestDeployment(res, ctx, rest.slice(0, -'/deployment'.length));
      }
      if (rest.endsWith('/allocations')) {
        if (method !== 'GET') throw new Answer(405, 'Invalid method');
        return this.jobAllocations(res, ctx, rest.slice(0, -'/allocations'.length));
      }
      if (method === 'GET') return this.readJob(res, ctx, rest);
      if (method === 'PUT' || method === 'POST') return this.register(res, ctx, raw, rest);
      if (method === 'DELETE') return this.deregister(res, ctx, rest, url);
      throw new Answer(405, 'Invalid method');
    }
    if (path.startsWith('/v1/allocation/')) {
      if (method !== 'GET') throw new Answer(405, 'Invalid method');
      return this.readAlloc(res, ctx, path.slice('/v1/allocation/'.length));
    }
    this.sendText(res, 404, '');
  }

  private context(req: http.IncomingMessage, url: URL): { token: string | undefined; namespace: string; q: URLSearchParams; req: http.IncomingMessage } {
    let token: string | undefined;
    const header = req.headers['x-nomad-token'];
    if (typeof header === 'string' && header.trim() !== '') token = header.trim();
    else {
      const auth = req.headers.authorization ?? '';
      const parts = auth.split(' ');
      if (parts.length > 1 && parts[0].toLowerCase() === 'bearer') token = parts.slice(1).join(' ').trim().split(' ')[0];
    }
    const region = url.searchParams.get('region');
    if (region && region !== this.region) throw new Answer(500, 'No path to region');
    return { token, namespace: url.searchParams.get('namespace') || 'default', q: url.searchParams, req };
  }

  /** Authenticate then check capabilities; either failure is "Permission denied". */
  private authorize(token: string | undefined, namespace: string, anyOf: string[]): void {
    if (!this.aclEnabled) return;
    let t: DoubleToken | undefined;
    if (token !== undefined) {
      t = this.tokens.get(token);
      if (!t || t.expired) throw new Answer(403, PERMISSION_DENIED);
    }
    if (t?.management) return;
    const caps = new Set<string>();
    for (const r of t?.rules ?? []) {
      if (r.namespace !== namespace && r.namespace !== '*') continue;
      const expanded = r.policy === 'read' ? READ_CAPS : r.policy === 'write' ? WRITE_CAPS : r.policy === 'scale' ? SCALE_CAPS : r.policy === 'deny' ? ['deny'] : [];
      for (const c of [...expanded, ...(r.capabilities ?? [])]) caps.add(c);
    }
    if (caps.has('deny') || !anyOf.some((c) => caps.has(c))) throw new Answer(403, PERMISSION_DENIED);
  }

  /** Blocking query: re-run `run` on every state change until its index passes `index` or the wait ends. */
  private async blocking<T>(ctx: { q: URLSearchParams; req: http.IncomingMessage }, run: () => { index: number; value: T }): Promise<{ index: number; value: T }> {
    const waitRaw = ctx.q.get('wait');
    let waitMs = 0;
    if (waitRaw) {
      const parsed = parseGoDuration(waitRaw);
      if (parsed === undefined) throw new Answer(400, 'Invalid wait time');
      waitMs = parsed;
    }
    const indexRaw = ctx.q.get('index');
    let minIndex = 0;
    if (indexRaw) {
      if (!/^\d+$/.test(indexRaw)) throw new Answer(400, 'Invalid index');
      minIndex = Number(indexRaw);
    }
    let result = run();
    if (minIndex === 0) return result;
    const block = waitMs > MAX_BLOCK_MS ? MAX_BLOCK_MS : waitMs <= 0 ? MAX_BLOCK_MS : waitMs;
    const deadline = Date.now() + block + Math.random() * (block / JITTER_FRACTION);
    while (result.index <= minIndex && !this.stopped && !ctx.req.socket.destroyed) {
      const changed = await this.nextChange(deadline - Date.now());
      if (!changed) break;
      result = run();
    }
    return result;
  }

  private nextChange(ms: number): Promise<boolean> {
    if (ms <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onChange = (): void => { clearTimeout(t); resolve(true); };
      const t = setTimeout(() => { this.changes.off('change', onChange); resolve(false); }, ms);
      this.changes.once('change', onChange);
    });
  }

  private parseBody(raw: string): Record<string, unknown> {
    if (raw === '') throw new Answer(400, 'Request body is empty');
    try {
      const v = JSON.parse(raw);
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('json: cannot unmarshal into Go value of type struct');
      return v;
    } catch (e) {
      throw new Answer(400, (e as Error).message);
    }
  }

  // ---- endpoints -----------------------------------------------------------------------

  private listJobs(res: http.ServerResponse, ctx: ReturnType<NomadDouble['context']>): void {
    this.authorize(ctx.token, ctx.namespace, ['list-jobs']);
    const jobs = [...this.jobs.values()].filter((j) => j.Namespace === ctx.namespace)
      .map((j) => ({ ID: j.ID, Name: j.Name, Namespace: j.Namespace, Type: j.Type, Status: j.Status, Stop: j.Stop, JobModifyIndex: j.JobModifyIndex, ModifyIndex: j.ModifyIndex, CreateIndex: j.CreateIndex }));
    this.sendJson(res, 200, jobs, this.readMeta(this.index));
  }

  private async readJob(res: http.ServerResponse, ctx: ReturnType<NomadDouble['context']>, id: string): Promise<void> {
    this.authorize(ctx.token, ctx.namespace, ['read-job']);
    const r = await this.blocking(ctx, () => {
      const j = this.jobs.get(jobKey(ctx.namespace, id));
      return { index: j ? j.ModifyIndex : this.index, value: j ? structuredClone(j) : undefined };
    });
    if (!r.value) { res.setHeader('X-Nomad-Index', String(r.index)); res.setHeader('X-Nomad-KnownLeader', 'true'); res.setHeader('X-Nomad-LastContact', '0'); throw new Answer(404, 'job not found'); }
    this.sendJson(res, 200, r.value, this.readMeta(r.index));
  }

  private register(res: http.ServerResponse, ctx: ReturnType<NomadDouble['context']>, raw: string, urlId: string): void {
    const body = this.parseBody(raw);
    const apiJob = body.Job as Record<string, unknown> | null | undefined;
    if (!apiJob) throw new Answer(400, 'Job must be specified');
    if (typeof apiJob.ID !== 'string') throw new Answer(400, "Job ID hasn't been provided");
    if (urlId !== '' && apiJob.ID !== urlId) throw new Answer(400, 'Job ID does not match name');
    const groups = (apiJob.TaskGroups as Record<string, unknown>[] | null) ?? [];
    if (apiJob.Type === 'system' && groups.some((g) => g.Scaling)) throw new Answer(400, 'Task groups with job type system do not support scaling blocks');
    const namespace = ctx.q.get('namespace') || (body.Namespace as string) || (apiJob.Namespace as string) || 'default';
    this.authenticate(ctx.token);
    const job = this.canonicalize(apiJob, namespace, (apiJob.Region as string) || this.region);
    const problems = this.validate(job);
    if (problems) throw new Answer(500, problems);
    this.authorize(ctx.token, namespace, ['submit-job']);
    const k = jobKey(namespace, job.ID);
    const existing = this.jobs.get(k);
    if (body.EnforceIndex === true) {
      const jmi = Number(body.JobModifyIndex ?? 0);
      if (existing && jmi === 0) throw new Answer(500, 'Enforcing job modify index 0: job already exists');
      if (existing && jmi !== existing.JobModifyIndex) throw new Answer(500, `Enforcing job modify index ${jmi}: job exists with conflicting job modify index: ${existing.JobModifyIndex}`);
      if (!existing && jmi !== 0) throw new Answer(500, `Enforcing job modify index ${jmi}: job does not exist`);
    }
    if (existing && body.PreserveCounts === true) {
      for (const g of job.TaskGroups) {
        const prev = existing.TaskGroups.find((p) => p.Name === g.Name);
        if (prev) g.Count = prev.Count;
      }
    }
    const writeIndex = this.upsertJob(job);
    const evalIndex = writeIndex ?? this.nextIndex();
    if (writeIndex === undefined) this.schedule(k); // a fresh evaluation runs even when the spec is unchanged
    const stored = this.jobs.get(k)!;
    this.sendJson(res, 200, {
      EvalID: randomUUID(), EvalCreateIndex: evalIndex, JobModifyIndex: stored.JobModifyIndex, Warnings: '',
      Index: evalIndex, LastContact: 0, KnownLeader: false, NextToken: '',
    }, { 'X-Nomad-Index': String(evalIndex) });
  }

  private authenticate(token: string | undefined): void {
    if (!this.aclEnabled || token === undefined) return;
    const t = this.tokens.get(token);
    if (!t || t.expired) throw new Answer(403, PERMISSION_DENIED);
  }

  private deregister(res: http.ServerResponse, ctx: ReturnType<NomadDouble['context']>, id: string, url: URL): void {
    const purgeRaw = url.searchParams.get('purge');
    let purge = false;
    if (purgeRaw) {
      const b = parseGoBool(purgeRaw);
      if (b === undefined) throw new Answer(500, `Failed to parse value of "purge" (${purgeRaw}) as a bool: strconv.ParseBool: parsing "${purgeRaw}": invalid syntax`);
      purge = b;
    }
    this.authorize(ctx.token, ctx.namespace, purge ? ['submit-job', 'purge-job'] : ['submit-job', 'purge-job', 'deregister-job']);
    const k = jobKey(ctx.namespace, id);
    const job = this.jobs.get(k);
    if (!job) {
      return this.sendJson(res, 200, { EvalID: '', EvalCreateIndex: 0, JobModifyIndex: 0, VolumeEvalID: '', VolumeEvalIndex: 0, Index: 0, LastContact: 0, KnownLeader: false, NextToken: '' }, { 'X-Nomad-Index': '0' });
    }
    const idx = this.nextIndex();
    if (purge) {
      this.jobs.delete(k);
      this.events.delete(k);
      this.deployments.delete(k);
    } else {
      job.Stop = true; job.Version++; job.ModifyIndex = idx; job.JobModifyIndex = idx; job.SubmitTime = Date.now() * 1e6;
      this.endDeployment(k, 'cancelled', DEPLOYMENT_STOPPED_JOB);
    }
    this.bump();
    this.schedule(k);
    this.sendJson(res, 200, { EvalID: randomUUID(), EvalCreateIndex: idx, JobModifyIndex: idx, VolumeEvalID: '', VolumeEvalIndex: 0, Index: idx, LastContact: 0, KnownLeader: false, NextToken: '' }, { 'X-Nomad-Index': String(idx) });
  }

  private scaleStatusOf(k: string): { index: number; value: unknown } {
    const job = this.jobs.get(k);
    if (!job) return { index: this.index, value: undefined };
    const ev = this.events.get(k);
    const groups: Record<string, { Desired: number; Placed: number; Running: number; Healthy: number; Unhealthy: number; Events: ScalingEvent[] | null }> = {};
    for (const g of job.TaskGroups) groups[g.Name] = { Desired: g.Count, Placed: 0, Running: 0, Healthy: 0, Unhealthy: 0, Events: ev?.byGroup.get(g.Name)?.map((e) => ({ ...e })) ?? null };
    let allocsIndex = 0;
    for (const a of this.jobAllocs(job.Namespace, job.ID)) {
      if (a.ClientStatus === 'complete' || a.DesiredStatus === 'stop') continue;
      const g = groups[a.TaskGroup];
      if (!g) continue;
      g.Placed++;
      if (a.ClientStatus === 'running') g.Running++;
      if (a.DeploymentStatus && a.DeploymentStatus.Healthy !== null) { if (a.DeploymentStatus.Healthy) g.Healthy++; else g.Unhealthy++; }
      allocsIndex = Math.max(allocsIndex, a.ModifyIndex);
    }
    return {
      index: Math.max(allocsIndex, ev?.modifyIndex ?? 0, job.ModifyIndex),
      value: { JobID: job.ID, Namespace: job.Namespace, JobCreateIndex: job.CreateIndex, JobModifyIndex: job.ModifyIndex, JobStopped: job.Stop, TaskGroups: groups },
    };
  }

  private async scaleStatus(res: http.ServerResponse, ctx: ReturnType<NomadDouble['context']>, id: string): Promise<void> {
    this.authorize(ctx.token, ctx.namespace, ['read-job', 'read-job-scaling']);
    const r = await this.blocking(ctx, () => this.scaleStatusOf(jobKey(ctx.namespace, id)));
    if (!r.value) { for (const [h, v] of Object.entries(this.readMeta(r.index))) res.setHeader(h, v); throw new Answer(404, 'job not found'); }
    this.sendJson(res, 200, r.value, this.readMeta(r.index));
  }

  private scale(res: http.ServerResponse, ctx: ReturnType<NomadDouble['context']>, id: string, raw: string): void {
    const body = this.parseBody(raw);
    const target = (body.Target as Record<string, string> | null) ?? {};
    if (target.Job && target.Job !== id) throw new Answer(400, 'job ID in payload did not match URL');
    if (body.Count !== undefined && body.Count !== null && !Number.isInteger(body.Count)) {
      throw new Answer(400, `json: cannot unmarshal ${typeof body.Count === 'number' ? `number ${body.Count}` : typeof body.Count} into Go struct field ScalingRequest.Count of type int64`);
    }
    const count = body.Count === undefined || body.Count === null ? undefined : (body.Count as number);
    const ns = ctx.namespace;
    this.authorize(ctx.token, ns, ['scale-job', 'submit-job']);
    // structs.JobScaleRequest.Validate
    if (target.Namespace && target.Namespace !== ns) throw new Answer(400, 'namespace in payload did not match header');
    const groupName = target.Group ?? '';
    if (groupName === '') throw new Answer(400, 'missing task group name for scaling action');
    if (count !== undefined) {
      if (count < 0) throw new Answer(400, "scaling action count can't be negative");
      if (body.Error === true) throw new Answer(400, 'scaling action should not contain count if error is true');
    }
    const k = jobKey(ns, id);
    const stored = this.jobs.get(k);
    if (!stored) throw new Answer(404, `job "${id}" not found`);
    if (stored.Type === 'system' && (count ?? 0) > 1) throw new Answer(400, 'jobs of type "system" can only be scaled between 0 and 1');
    const job = structuredClone(stored);
    const group = job.TaskGroups.find((g) => g.Name === groupName);
    if (!group) throw new Answer(400, `task group "${groupName}" specified for scaling does not exist in job`);
    const prevCount = group.Count;
    let evalId: string | null = null;
    let evalIndex = 0;
    let jobModifyIndex = stored.ModifyIndex;
    if (count !== undefined) {
      if (group.Scaling) {
        if (count < group.Scaling.Min) throw new Answer(400, `group count was less than scaling policy minimum: ${count} < ${group.Scaling.Min}`);
        if (group.Scaling.Max < count) throw new Answer(400, `group count was greater than scaling policy maximum: ${count} > ${group.Scaling.Max}`);
      }
      const latest = this.deployments.get(k);
      if (latest && ACTIVE_DEPLOYMENT.has(latest.Status) && latest.JobCreateIndex === stored.CreateIndex) throw new Answer(400, 'job scaling blocked due to active deployment');
      const jmi = Number(body.JobModifyIndex ?? 0);
      if (jmi > 0 && jmi !== stored.JobModifyIndex) throw new Answer(500, `Enforcing job modify index ${jmi}: job exists with conflicting job modify index: ${stored.JobModifyIndex}`);
      group.Count = count;
      // Job.Scale commits the job even when the count is unchanged, so the version always moves.
      const idx = this.nextIndex();
      stored.TaskGroups = job.TaskGroups;
      stored.Version++; stored.ModifyIndex = idx; stored.JobModifyIndex = idx; stored.SubmitTime = Date.now() * 1e6;
      jobModifyIndex = idx;
      evalId = randomUUID();
      evalIndex = this.nextIndex();
      if (this.deployOnScale.has(k) && count !== prevCount && !stored.Stop) this.startDeployment(stored, false);
      this.schedule(k);
    }
    const eventIndex = this.nextIndex();
    const ev = this.events.get(k) ?? { modifyIndex: 0, byGroup: new Map<string, ScalingEvent[]>() };
    ev.modifyIndex = eventIndex;
    const list = [{
      Time: Date.now() * 1e6, Count: count ?? null, PreviousCount: prevCount, Message: (body.Message as string) ?? '',
      Error: body.Error === true, Meta: (body.Meta as Record<string, unknown>) ?? null, EvalID: evalId, CreateIndex: eventIndex,
    }, ...(ev.byGroup.get(groupName) ?? [])].slice(0, TRACKED_SCALING_EVENTS);
    ev.byGroup.set(groupName, list);
    this.events.set(k, ev);
    this.bump();
    this.sendJson(res, 200, {
      EvalID: evalId ?? '', EvalCreateIndex: evalIndex, JobModifyIndex: jobModifyIndex, Warnings: '',
      Index: eventIndex, LastContact: 0, KnownLeader: false, NextToken: '',
    }, { 'X-Nomad-Index': String(eventIndex) });
  }

  /** GET /v1/job/:id/deployment (Job.LatestDeployment): the newest deployment or null; index = the deployments table's. */
  private async latestDeployment(res: http.ServerResponse, ctx: ReturnType<NomadDouble['context']>, id: string): Promise<void> {
    this.authorize(ctx.token, ctx.namespace, ['read-job']);
    const r = await this.blocking(ctx, () => {
      const d = this.deployments.get(jobKey(ctx.namespace, id));
      return { index: this.deploymentsIndex, value: d ? (({ manual: _m, ...rest }) => structuredClone(rest))(d) : null };
    });
    this.sendJson(res, 200, r.value, this.readMeta(r.index));
  }

  private stub(a: Alloc): Record<string, unknown> {
    const { slot: _slot, AllocModifyIndex: _ami, ...rest } = a;
    return structuredClone(rest);
  }

  private async jobAllocations(res: http.ServerResponse, ctx: ReturnType<NomadDouble['context']>, id: string): Promise<void> {
    this.authorize(ctx.token, ctx.namespace, ['read-job']);
    const all = parseGoBool(ctx.q.get('all') ?? '') ?? false;
    void all; // the double keeps no job versions of other CreateIndex, so `all` changes nothing
    const r = await this.blocking(ctx, () => ({
      index: this.allocsIndex,
      value: this.jobAllocs(ctx.namespace, id).map((a) => this.stub(a)),
    }));
    this.sendJson(res, 200, r.value, this.readMeta(r.index));
  }

  private async readAlloc(res: http.ServerResponse, ctx: ReturnType<NomadDouble['context']>, id: string): Promise<void> {
    this.authenticate(ctx.token);
    const r = await this.blocking(ctx, () => {
      const a = this.allocs.get(id);
      return { index: a ? a.ModifyIndex : this.allocsIndex, value: a };
    });
    if (!r.value) { for (const [h, v] of Object.entries(this.readMeta(r.index))) res.setHeader(h, v); throw new Answer(404, 'alloc not found'); }
    try { this.authorize(ctx.token, r.value.Namespace, ['read-job']); } catch { throw new Answer(500, `Unknown allocation "${id}"`); }
    this.sendJson(res, 200, { ...this.stub(r.value), AllocModifyIndex: r.value.AllocModifyIndex, TaskStates: {} }, this.readMeta(r.index));
  }
}

/** Which requests a fault applies to (all when undefined). */
export interface RequestMatch { method?: string; path?: RegExp }

function matchesRequest(m: RequestMatch | undefined, req: http.IncomingMessage, url: URL): boolean {
  return !m || ((!m.method || m.method === req.method) && (!m.path || m.path.test(url.pathname)));
}

/** Go's strconv.ParseBool. */
export function parseGoBool(s: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return undefined;
}

/** A raw HTTP call for tests of the double itself (global fetch, no client logic). */
export async function rawCall(
  base: string, method: string, path: string,
  opts: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; text: string; json: () => any }> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token !== undefined) headers['X-Nomad-Token'] = opts.token;
  const res = await fetch(base + path, {
    method, headers,
    body: opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}
