// The agent's Nomad HTTP client: the few calls nomad_autostart makes (read scale status and
// allocations with blocking queries, scale a group, read and re-register a job, read its latest
// deployment, read the agent's own version, follow the event stream; read, list and write
// Variables with a check-and-set, take, renew and release a Variables lock). Paths, query
// parameters and bodies follow hashicorp/nomad api/jobs.go (Jobs.ScaleStatus, Jobs.Scale,
// Jobs.Info, Jobs.Register, Jobs.Allocations, Jobs.LatestDeployment), api/agent.go (Agent.Self),
// api/event_stream.go (EventStream.Stream: `index`, one `topic` parameter per Topic:Key),
// api/variables.go and api/locks.go (Variables.Peek, PrefixList, CheckedUpdate, AcquireLock,
// RenewLock, ReleaseLock), command/agent/variable_endpoint.go and the HTTP API docs
// (api-docs/jobs.mdx, api-docs/events.mdx, api-docs/variables).
import { inspect } from 'node:util';
import { InternalError, NomadError } from '../../../../errors';
import type { NomadSettings } from './settings';
import { NomadTransport, type NomadResponse, type NomadStreamResponse } from './transport';
import type {
  AgentSelf,
  AllocationStub,
  BlockingOptions,
  JobScaleStatus,
  JobWriteResponse,
  NomadDeployment,
  NomadJob,
  NomadVariable,
  QueryResult,
  TaskGroupScaleStatus,
  VariableMetadata,
} from './types';

/** Nomad caps a blocking wait at 300 s (structs.MaxBlockingRPCQueryTime) and adds up to 1/16 jitter. */
const MAX_WAIT_MS = 300_000;
const JITTER_FRACTION = 16;

export interface CallOptions {
  timeoutMs?: number;
}
export interface ScaleOptions extends CallOptions {
  /** Record the event as an error (then `count` must be null). */
  error?: boolean;
  policyOverride?: boolean;
  /** Scale only if the job's JobModifyIndex still equals this (check-and-set). */
  jobModifyIndex?: number;
}
export interface VariableOptions extends CallOptions {
  /** The variable's namespace; default: the settings' (NOMAD_NAMESPACE), else Nomad's default. */
  namespace?: string;
}
export interface LockOptions extends VariableOptions {
  /** How long the lock holds without a renewal (Nomad accepts 10s to 24h). */
  ttlMs: number;
  /** After a lock lapses (not when it is released), how long nobody may take it. */
  lockDelayMs: number;
}
export interface RegisterOptions extends CallOptions {
  namespace?: string;
  enforceIndex?: boolean;
  jobModifyIndex?: number;
  /** Keep the counts currently stored in Nomad instead of those in `job`. */
  preserveCounts?: boolean;
}

export class NomadClient {
  private readonly transport: NomadTransport;

  constructor(readonly settings: NomadSettings) {
    this.transport = new NomadTransport(settings);
  }

  /** GET /v1/job/:job/scale — desired/placed/running/healthy per group and Nomad's scaling events. */
  async jobScaleStatus(job: string, namespace?: string, q: BlockingOptions & CallOptions = {}): Promise<QueryResult<JobScaleStatus>> {
    const r = await this.query<JobScaleStatus>(`/v1/job/${enc(job)}/scale`, namespace, q);
    const groups: Record<string, TaskGroupScaleStatus> = {};
    for (const [name, g] of Object.entries(r.value.TaskGroups ?? {})) groups[name] = { ...g, Events: g.Events ?? [] };
    return { ...r, value: { ...r.value, TaskGroups: groups } };
  }

  /** POST /v1/job/:job/scale — set a group's count (null: record an event only). */
  async scale(
    job: string,
    group: string,
    count: number | null,
    message: string,
    meta?: Record<string, unknown>,
    namespace?: string,
    opts: ScaleOptions = {},
  ): Promise<JobWriteResponse> {
    const ns = namespace ?? this.settings.namespace;
    const target: Record<string, string> = { Job: job, Group: group };
    if (ns !== undefined) target.Namespace = ns;
    const body: Record<string, unknown> = {
      Count: count,
      Target: target,
      Message: message,
      Error: opts.error ?? false,
      Meta: meta ?? null,
      PolicyOverride: opts.policyOverride ?? false,
    };
    if (opts.jobModifyIndex !== undefined) body.JobModifyIndex = opts.jobModifyIndex;
    return this.write('POST', `/v1/job/${enc(job)}/scale`, ns, body, opts.timeoutMs);
  }

  /** GET /v1/job/:job. */
  async readJob(job: string, namespace?: string, q: BlockingOptions & CallOptions = {}): Promise<QueryResult<NomadJob>> {
    return this.query<NomadJob>(`/v1/job/${enc(job)}`, namespace, q);
  }

  /** GET /v1/job/:job/versions — the versions Nomad keeps, newest first. */
  async jobVersions(job: string, namespace?: string, q: CallOptions = {}): Promise<QueryResult<{ Versions: NomadJob[] }>> {
    return this.query<{ Versions: NomadJob[] }>(`/v1/job/${enc(job)}/versions`, namespace, q);
  }

  /** PUT /v1/jobs — e.g. a job read back with Stop=false, to start a stopped job again. */
  async registerJob(job: NomadJob, opts: RegisterOptions = {}): Promise<JobWriteResponse> {
    const ns = opts.namespace ?? job.Namespace ?? this.settings.namespace;
    const body: Record<string, unknown> = { Job: job };
    if (opts.enforceIndex) {
      body.EnforceIndex = true;
      body.JobModifyIndex = opts.jobModifyIndex ?? 0;
    }
    if (opts.preserveCounts) body.PreserveCounts = true;
    return this.write('PUT', '/v1/jobs', ns, body, opts.timeoutMs);
  }

  /** GET /v1/job/:job/allocations. */
  async allocations(job: string, namespace?: string, q: BlockingOptions & CallOptions = {}): Promise<QueryResult<AllocationStub[]>> {
    return this.query<AllocationStub[]>(`/v1/job/${enc(job)}/allocations`, namespace, q);
  }

  /** GET /v1/job/:job/deployment — the job's newest deployment, or null when it never had one. */
  async latestDeployment(job: string, namespace?: string, q: BlockingOptions & CallOptions = {}): Promise<QueryResult<NomadDeployment | null>> {
    return this.query<NomadDeployment | null>(`/v1/job/${enc(job)}/deployment`, namespace, q);
  }

  /** GET /v1/agent/self — needs agent:read. */
  async agentSelf(q: CallOptions = {}): Promise<AgentSelf> {
    const res = await this.transport.send({ method: 'GET', path: '/v1/agent/self', timeoutMs: q.timeoutMs ?? this.settings.timeoutMs });
    return this.json<AgentSelf>(res, '/v1/agent/self');
  }

  /**
   * GET /v1/event/stream: one namespace, the given `Topic:Key` topics, from `index` (0: the
   * oldest batch the servers keep). Its body is ndjson until `signal` aborts it or the server
   * ends it; `timeoutMs` bounds the wait for the answer's headers.
   */
  async eventStream(o: { namespace: string; topics: readonly string[]; index: number; signal: AbortSignal } & CallOptions): Promise<NomadStreamResponse> {
    return this.transport.open(
      {
        method: 'GET',
        path: '/v1/event/stream',
        query: { namespace: o.namespace, region: this.settings.region, topic: o.topics, index: String(o.index) },
        timeoutMs: o.timeoutMs ?? this.settings.timeoutMs,
      },
      o.signal,
    );
  }

  // ---- Variables -------------------------------------------------------------------------------
  // A variable's path is sent as it is: Nomad takes only [a-zA-Z0-9-_~/] (structs.ValidatePath),
  // and '/' must stay a '/' (the route is /v1/var/<path>); `variablePath` refuses anything else.

  /** GET /v1/var/:path — the variable, or null when there is none (404 "variable not found"). */
  async readVariable(path: string, o: VariableOptions = {}): Promise<QueryResult<NomadVariable | null>> {
    path = variablePath(path);
    try {
      const r = await this.query<NomadVariable>(`/v1/var/${path}`, o.namespace, o);
      return { ...r, value: { ...r.value, Items: r.value.Items ?? {} } };
    } catch (e) {
      if (e instanceof NomadError && e.kind === 'not_found') return { value: null, index: e.index ?? 0, knownLeader: true, lastContactMs: 0 };
      throw e;
    }
  }

  /** GET /v1/vars?prefix= — the variables (without items) whose path starts with `prefix`, those the token may list. */
  async listVariables(prefix: string, o: VariableOptions = {}): Promise<QueryResult<VariableMetadata[]>> {
    const r = await this.query<VariableMetadata[] | null>('/v1/vars', o.namespace, { ...o, params: { prefix } });
    return { ...r, value: r.value ?? [] };
  }

  /**
   * PUT /v1/var/:path?cas=N — writes the variable if its ModifyIndex is still `cas` (0: only if
   * there is none). Otherwise Nomad answers 409 with the variable as it is: a NomadError of kind
   * `conflict`, whose variable `conflictingVariable` reads.
   */
  async putVariable(path: string, items: Readonly<Record<string, string>>, cas: number, o: VariableOptions = {}): Promise<NomadVariable> {
    path = variablePath(path);
    const res = await this.transport.send({
      method: 'PUT',
      path: `/v1/var/${path}`,
      query: { namespace: o.namespace ?? this.settings.namespace, region: this.settings.region, cas: String(cas) },
      body: { Path: path, Items: items },
      timeoutMs: o.timeoutMs ?? this.settings.timeoutMs,
    });
    return this.variable(res, path);
  }

  /**
   * PUT /v1/var/:path?lock-acquire — takes the lock on the variable (creating it, with `items`),
   * or rejects with kind `conflict` (409) while someone else holds it. The answer's Lock.ID is what
   * renewing and releasing need; a server without locks (before 1.7) answers without one.
   */
  async acquireLock(path: string, items: Readonly<Record<string, string>>, o: LockOptions): Promise<NomadVariable> {
    path = variablePath(path);
    const res = await this.transport.send({
      method: 'PUT',
      path: `/v1/var/${path}`,
      query: { namespace: o.namespace ?? this.settings.namespace, region: this.settings.region, 'lock-acquire': true },
      body: { Path: path, Items: items, Lock: { TTL: goDuration(o.ttlMs), LockDelay: goDuration(o.lockDelayMs) } },
      timeoutMs: o.timeoutMs ?? this.settings.timeoutMs,
    });
    return this.variable(res, path);
  }

  /** PUT /v1/var/:path?lock-renew — restarts the lock's TTL; kind `conflict` (409) when `lockId` no longer holds it. */
  async renewLock(path: string, lockId: string, o: VariableOptions = {}): Promise<VariableMetadata> {
    path = variablePath(path);
    const res = await this.transport.send({
      method: 'PUT',
      path: `/v1/var/${path}`,
      query: { namespace: o.namespace ?? this.settings.namespace, region: this.settings.region, 'lock-renew': true },
      body: { Path: path, Lock: { ID: lockId } },
      timeoutMs: o.timeoutMs ?? this.settings.timeoutMs,
    });
    return this.json<VariableMetadata>(res, `/v1/var/${path}`);
  }

  /** PUT /v1/var/:path?lock-release — gives the lock up (no items: Nomad refuses them here); kind `conflict` (409) when `lockId` does not hold it. */
  async releaseLock(path: string, lockId: string, o: VariableOptions = {}): Promise<NomadVariable> {
    path = variablePath(path);
    const res = await this.transport.send({
      method: 'PUT',
      path: `/v1/var/${path}`,
      query: { namespace: o.namespace ?? this.settings.namespace, region: this.settings.region, 'lock-release': true },
      body: { Path: path, Lock: { ID: lockId } },
      timeoutMs: o.timeoutMs ?? this.settings.timeoutMs,
    });
    return this.variable(res, path);
  }

  /** Waits for requests under way (a blocking query may take minutes). */
  async close(): Promise<void> {
    await this.transport.close();
  }

  /** Aborts requests under way and closes the connections. */
  async destroy(): Promise<void> {
    await this.transport.destroy();
  }

  // Printing the client prints only the (redacted) settings.
  [inspect.custom](_depth: number, opts: object): string {
    return `NomadClient ${inspect(this.settings, opts)}`;
  }

  private async query<T>(
    path: string,
    namespace: string | undefined,
    q: BlockingOptions & CallOptions & { params?: Readonly<Record<string, string>> },
  ): Promise<QueryResult<T>> {
    const blocking = q.index !== undefined && q.index > 0;
    const waitMs = blocking ? Math.min(q.waitMs ?? MAX_WAIT_MS, MAX_WAIT_MS) : 0;
    const res = await this.transport.send({
      method: 'GET',
      path,
      query: {
        namespace: namespace ?? this.settings.namespace,
        region: this.settings.region,
        index: blocking ? String(q.index) : undefined,
        wait: blocking && q.waitMs !== undefined ? `${Math.max(0, Math.round(q.waitMs))}ms` : undefined,
        ...q.params,
      },
      longPoll: blocking,
      // The server may hold a blocking query for wait + wait/16 before it answers.
      timeoutMs: (q.timeoutMs ?? this.settings.timeoutMs) + waitMs + Math.ceil(waitMs / JITTER_FRACTION),
    });
    return {
      value: this.json<T>(res, path),
      index: headerNumber(res, 'x-nomad-index'),
      knownLeader: header(res, 'x-nomad-knownleader') === 'true',
      lastContactMs: headerNumber(res, 'x-nomad-lastcontact'),
    };
  }

  private async write(method: 'PUT' | 'POST', path: string, namespace: string | undefined, body: unknown, timeoutMs?: number): Promise<JobWriteResponse> {
    const res = await this.transport.send({
      method,
      path,
      body,
      query: { namespace, region: this.settings.region },
      timeoutMs: timeoutMs ?? this.settings.timeoutMs,
    });
    const v = this.json<JobWriteResponse>(res, path);
    return {
      EvalID: v.EvalID ?? '',
      EvalCreateIndex: v.EvalCreateIndex ?? 0,
      JobModifyIndex: v.JobModifyIndex ?? 0,
      Warnings: v.Warnings ?? '',
      Index: v.Index ?? headerNumber(res, 'x-nomad-index'),
    };
  }

  private variable(res: NomadResponse, path: string): NomadVariable {
    const v = this.json<NomadVariable>(res, `/v1/var/${path}`);
    return { ...v, Items: v.Items ?? {} };
  }

  private json<T>(res: NomadResponse, path: string): T {
    try {
      return JSON.parse(res.text) as T;
    } catch {
      throw new NomadError(`Nomad ${path}: answer ${res.status} is not JSON`, res.status, this.transport.scrub(res.text.slice(0, 300)), 'server');
    }
  }
}

/** Job IDs may hold '/', e.g. dispatched jobs; Nomad's client escapes them (url.PathEscape). */
const enc = (s: string): string => encodeURIComponent(s);

/** Nomad's rule for variable paths (nomad/structs/variables.go validVariablePath), without the leading and trailing '/' its client trims. */
const VARIABLE_PATH = /^[a-zA-Z0-9\-_~/]{1,128}$/;

/** `path` as Nomad stores it; anything Nomad would refuse is a bug of the caller, who builds paths from safe segments. */
function variablePath(path: string): string {
  const p = path.replace(/^\/+|\/+$/g, '');
  if (!VARIABLE_PATH.test(p)) throw new InternalError(`not a Nomad variable path: ${JSON.stringify(path)}`);
  return p;
}

/** Milliseconds as a Go duration string (time.ParseDuration reads "1500ms"). */
const goDuration = (ms: number): string => `${Math.max(0, Math.round(ms))}ms`;

/**
 * The variable a 409 carries (the one that won the check-and-set), when its body is one; a lock's
 * 409s carry only a text, and a token that may not read the variable gets it without items.
 */
export function conflictingVariable(e: NomadError): NomadVariable | undefined {
  if (e.kind !== 'conflict' || e.status !== 409 || !e.body) return undefined;
  try {
    const v = JSON.parse(e.body) as Partial<NomadVariable> | null;
    if (!v || typeof v !== 'object' || typeof v.ModifyIndex !== 'number') return undefined;
    return { Namespace: '', Path: '', CreateIndex: 0, CreateTime: 0, ModifyTime: 0, ...v, ModifyIndex: v.ModifyIndex, Items: v.Items ?? {} };
  } catch {
    return undefined;
  }
}

function header(res: NomadResponse, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
function headerNumber(res: NomadResponse, name: string): number {
  const n = Number(header(res, name));
  return Number.isFinite(n) ? n : 0;
}
