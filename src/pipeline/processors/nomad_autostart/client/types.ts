// The shapes Nomad answers with (hashicorp/nomad nomad/structs/structs.go JobScaleStatus,
// TaskGroupScaleStatus, ScalingEvent, JobRegisterResponse, AllocListStub, Deployment; api/jobs.go Job),
// reduced to the fields the agent reads. Times are Unix nanoseconds, as Nomad sends them.

/** A read answer and the blocking-query metadata from its headers. */
export interface QueryResult<T> {
  readonly value: T;
  /** X-Nomad-Index: pass it back as `index` to block until something changes. */
  readonly index: number;
  readonly knownLeader: boolean;
  readonly lastContactMs: number;
}

/** Blocking-query options: wait until the index passes `index`, at most `waitMs`. */
export interface BlockingOptions {
  index?: number;
  waitMs?: number;
}

export interface ScalingEvent {
  readonly Time: number;
  readonly Count: number | null;
  readonly PreviousCount: number;
  readonly Message: string;
  readonly Error: boolean;
  readonly Meta: Record<string, unknown> | null;
  readonly EvalID: string | null;
  readonly CreateIndex: number;
}

export interface TaskGroupScaleStatus {
  readonly Desired: number;
  readonly Placed: number;
  readonly Running: number;
  readonly Healthy: number;
  readonly Unhealthy: number;
  /** Newest first; Nomad sends null when there are none, the client gives []. */
  readonly Events: readonly ScalingEvent[];
}

export interface JobScaleStatus {
  readonly JobID: string;
  readonly Namespace: string;
  readonly JobCreateIndex: number;
  readonly JobModifyIndex: number;
  readonly JobStopped: boolean;
  readonly TaskGroups: Readonly<Record<string, TaskGroupScaleStatus>>;
}

/** The answer to register and scale (structs.JobRegisterResponse). */
export interface JobWriteResponse {
  readonly EvalID: string;
  readonly EvalCreateIndex: number;
  readonly JobModifyIndex: number;
  readonly Warnings: string;
  readonly Index: number;
}

export interface NomadScalingPolicy {
  Min?: number;
  Max?: number;
  Enabled?: boolean;
  [field: string]: unknown;
}

export interface NomadTaskGroup {
  Name: string;
  Count?: number;
  Scaling?: NomadScalingPolicy | null;
  [field: string]: unknown;
}

/** A job as read and re-registered; unknown fields are kept so a round trip loses nothing. */
export interface NomadJob {
  ID: string;
  Name?: string;
  Namespace?: string;
  Type?: string;
  Stop?: boolean;
  Status?: string;
  Version?: number;
  JobModifyIndex?: number;
  ModifyIndex?: number;
  CreateIndex?: number;
  TaskGroups?: NomadTaskGroup[];
  [field: string]: unknown;
}

export interface AllocationStub {
  readonly ID: string;
  readonly Name: string;
  readonly Namespace: string;
  readonly JobID: string;
  readonly TaskGroup: string;
  readonly NodeID: string;
  readonly DesiredStatus: string;
  readonly ClientStatus: string;
  readonly DeploymentStatus: { readonly Healthy: boolean | null; readonly Canary: boolean } | null;
  readonly CreateIndex: number;
  readonly ModifyIndex: number;
  readonly [field: string]: unknown;
}

/** structs.Deployment, the fields the agent reads. */
export interface NomadDeployment {
  readonly ID: string;
  readonly JobID: string;
  readonly JobVersion: number;
  readonly JobCreateIndex: number;
  readonly Status: string;
  readonly StatusDescription: string;
  readonly CreateIndex: number;
  readonly ModifyIndex: number;
  /** Per group (structs.DeploymentState): the deployment fails unless some allocation turns healthy by RequireProgressBy (RFC 3339). */
  readonly TaskGroups?: Readonly<Record<string, { readonly ProgressDeadline?: number; readonly RequireProgressBy?: string }>> | null;
  readonly [field: string]: unknown;
}

/** structs.Deployment.Active(): these statuses block count changes (Job.Scale). */
export const ACTIVE_DEPLOYMENT_STATUSES: ReadonlySet<string> = new Set(['running', 'paused', 'blocked', 'unblocking', 'initializing', 'pending']);

/**
 * GET /v1/agent/self, the fields the agent reads (hashicorp/nomad command/agent/agent_endpoint.go
 * agentSelf): the agent's own version (config.Version, version.VersionInfo) and, when the agent
 * is a server, its serf member's tags (Tags.build, nomad/server.go setupSerf); a client agent's
 * member is the zero Member, Tags null.
 */
export interface AgentSelf {
  readonly config?: {
    readonly Version?: { readonly Version?: string; readonly VersionPrerelease?: string; readonly VersionMetadata?: string } | null;
  } | null;
  readonly member?: { readonly Tags?: Readonly<Record<string, string>> | null } | null;
}

/** One event of /v1/event/stream (nomad/structs/event.go Event). */
export interface StreamEvent {
  readonly Topic: string;
  readonly Type: string;
  readonly Key: string;
  readonly Namespace: string;
  readonly FilterKeys?: readonly string[] | null;
  readonly Index: number;
  readonly Payload?: {
    /** Job topic (structs.JobEvent): the job as stored after the write; Deleted when it was purged. */
    readonly Job?: NomadJob | null;
    readonly Deleted?: boolean;
    /** Deployment topic (structs.DeploymentEvent). */
    readonly Deployment?: NomadDeployment | null;
  } | null;
}

/** One line of the stream: the events of one Raft index (structs.Events), or `{}`, a heartbeat. */
export interface StreamBatch {
  readonly Index?: number;
  readonly Events?: readonly StreamEvent[] | null;
}

/**
 * A Variables lock (nomad/structs/variables.go VariableLock; durations as Go writes them, "15s").
 * Nomad fills ID on lock-acquire; only the holder (or a management token) sees it.
 */
export interface VariableLock {
  readonly ID?: string;
  readonly TTL?: string;
  readonly LockDelay?: string;
}

/** A variable without its items: what GET /v1/vars lists (structs.VariableMetadata). Times are Unix ns of the leader's clock. */
export interface VariableMetadata {
  readonly Namespace: string;
  readonly Path: string;
  readonly CreateIndex: number;
  readonly ModifyIndex: number;
  readonly CreateTime: number;
  readonly ModifyTime: number;
  readonly Lock?: VariableLock | null;
}

/** A variable and its items (structs.VariableDecrypted): string keys to string values, 64 KiB in all. */
export interface NomadVariable extends VariableMetadata {
  readonly Items: Readonly<Record<string, string>>;
}
