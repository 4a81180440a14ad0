// The double's state store: tables, the Raft index, and change notification for blocking queries.
// Follows hashicorp/nomad nomad/state/state_store.go: every write takes the next Raft index; each
// table (jobs, allocs, deployments, scaling_event, variables) keeps its own latest index, which
// blocking reads of that table report; a write wakes the watchers of what changed (here: every
// watcher, which then re-runs its query, like a memdb WatchSet firing).
import { EventEmitter } from 'node:events';
import type { Acl } from './acl';

export interface Scaling {
  ID: string;
  Type: string;
  Target: Record<string, string>;
  Min: number;
  Max: number;
  Enabled: boolean;
  Policy: null;
  CreateIndex: number;
  ModifyIndex: number;
}
/** structs.UpdateStrategy; durations in nanoseconds, as Nomad's JSON carries them. */
export interface UpdateStrategy {
  Stagger: number;
  MaxParallel: number;
  HealthCheck: 'checks' | 'task_states' | 'manual';
  MinHealthyTime: number;
  HealthyDeadline: number;
  ProgressDeadline: number;
  AutoRevert: boolean;
  AutoPromote: boolean;
  Canary: number;
}
/** structs.MigrateStrategy: how allocations outside a deployment are judged healthy. */
export interface MigrateStrategy {
  MaxParallel: number;
  HealthCheck: 'checks' | 'task_states';
  MinHealthyTime: number;
  HealthyDeadline: number;
}
export interface Group {
  Name: string;
  Count: number;
  Scaling: Scaling | null;
  Update: UpdateStrategy | null;
  Migrate: MigrateStrategy | null;
  Services: GroupService[] | null;
}
export interface Job {
  ID: string;
  Name: string;
  Namespace: string;
  Region: string;
  Type: string;
  Priority: number;
  Stop: boolean;
  Status: string;
  Version: number;
  TaskGroups: Group[];
  Meta: Record<string, string> | null;
  CreateIndex: number;
  ModifyIndex: number;
  JobModifyIndex: number;
  SubmitTime: number;
}
export interface ScalingEvent {
  Time: number;
  Count: number | null;
  PreviousCount: number;
  Message: string;
  Error: boolean;
  Meta: Record<string, unknown> | null;
  EvalID: string | null;
  CreateIndex: number;
}
export interface Alloc {
  ID: string;
  EvalID: string;
  Name: string;
  Namespace: string;
  NodeID: string;
  NodeName: string;
  JobID: string;
  JobVersion: number;
  TaskGroup: string;
  DeploymentID: string | null;
  DesiredStatus: 'run' | 'stop';
  DesiredDescription: string;
  ClientStatus: 'pending' | 'running' | 'complete';
  DeploymentStatus: { Healthy: boolean | null; Canary: boolean; Timestamp: string; ModifyIndex: number } | null;
  CreateIndex: number;
  ModifyIndex: number;
  AllocModifyIndex: number;
  CreateTime: number;
  ModifyTime: number;
  slot: number;
}
export interface Deployment {
  ID: string;
  Namespace: string;
  JobID: string;
  JobVersion: number;
  JobModifyIndex: number;
  JobSpecModifyIndex: number;
  JobCreateIndex: number;
  IsMultiregion: boolean;
  TaskGroups: Record<string, unknown> | null;
  Status: string;
  StatusDescription: string;
  EvalPriority: number;
  CreateIndex: number;
  ModifyIndex: number;
  /** Set by setActiveDeployment: ends only when the test says so, not on health. */
  manual: boolean;
  /** performance-free wall clock (ms) by which some allocation must turn healthy (DeploymentState.RequireProgressBy). */
  requireProgressBy: number;
}

export const jobKey = (ns: string, id: string): string => `${ns}\u0000${id}`;

/** A client node: the part of structs.Node the double keeps (nomad/structs/structs.go Node). */
export interface DoubleNodeRecord {
  ID: string;
  Name: string;
  Datacenter: string;
  NodePool: string;
  NodeClass: string;
  /** The node's HTTP address host; HTTPAddr is "<Address>:4646". */
  Address: string;
  Status: 'initializing' | 'ready' | 'down' | 'disconnected';
  SchedulingEligibility: 'eligible' | 'ineligible';
  Attributes: Record<string, string>;
  Meta: Record<string, string>;
  CreateIndex: number;
  ModifyIndex: number;
  /** The next dynamic port the node hands out (client.min_dynamic_port is 20000). */
  nextPort: number;
}
/** A service registration (nomad/structs/service_registration.go ServiceRegistration). */
export interface ServiceRegistration {
  ID: string;
  ServiceName: string;
  Namespace: string;
  NodeID: string;
  Datacenter: string;
  JobID: string;
  AllocID: string;
  Tags: string[];
  Address: string;
  Port: number;
  CreateIndex: number;
  ModifyIndex: number;
}
/** A group `service` block (structs.Service: the fields a registration is made of). */
export interface GroupService {
  Name: string;
  Provider: 'consul' | 'nomad';
  Tags: string[];
  PortLabel: string;
}

/** structs.VariableLock; TTL and LockDelay in nanoseconds (time.Duration), as stored. */
export interface VariableLock {
  ID: string;
  TTL: number;
  LockDelay: number;
}
/**
 * One row of the variables table: structs.VariableMetadata plus the cleartext Items (Nomad keeps
 * them encrypted, VariableEncrypted; the double has no keyring).
 */
export interface Variable {
  Namespace: string;
  Path: string;
  Lock: VariableLock | null;
  CreateIndex: number;
  CreateTime: number;
  ModifyIndex: number;
  ModifyTime: number;
  Items: Record<string, string> | null;
}
/** The variables table's primary index (nomad/state/schema.go variablesTableSchema: Namespace, Path). */
export const variableKey = (ns: string, path: string): string => `${ns}\u0000${path}`;

/** One event of the event stream (nomad/structs/event.go Event). */
export interface StreamEvent {
  Topic: string;
  Type: string;
  Key: string;
  Namespace: string;
  FilterKeys: string[] | null;
  Index: number;
  Payload: unknown;
}
export type NewEvent = Omit<StreamEvent, 'Index' | 'FilterKeys'> & { FilterKeys?: string[] };
/** The events of one Raft index (structs.Events), one item of the event buffer. */
export interface StreamBatch {
  Index: number;
  Events: StreamEvent[];
}

/**
 * How the modelled servers are configured and which Nomad they run. Defaults are Nomad's
 * (nomad/config.go DefaultConfig, command/agent/config.go): job_max_count 50000
 * (structs.JobDefaultMaxCount), event_buffer_size 100; heartbeats every 30 s
 * (nomad/event_endpoint.go NewJsonStream).
 */
export interface ServerConfig {
  /** The servers' Nomad version: decides the scale check-and-set (see scaling.ts). */
  version: string;
  jobMaxCount: number;
  eventBufferSize: number;
  eventHeartbeatMs: number;
  /**
   * Time between Job.Scale's snapshot read and its Raft commit. 0 commits in the same turn (no
   * request can interleave); more lets concurrent requests read the same snapshot, as on a real
   * cluster where the apply waits for a quorum.
   */
  commitDelayMs: number;
  /**
   * How many times faster than the wall clock the leader's variable lock timers run (the TTL timer
   * and the lock delay, see variables.ts). Nomad takes no TTL under 10 s, so a test that wants a lock
   * to expire in a fraction of a second sets this instead of a TTL Nomad would refuse. 1 = real time.
   */
  lockTimeScale: number;
}

export const DEFAULT_SERVER_CONFIG: ServerConfig = {
  version: '2.0.6',
  jobMaxCount: 50_000,
  eventBufferSize: 100,
  eventHeartbeatMs: 30_000,
  commitDelayMs: 0,
  lockTimeScale: 1,
};

/** Whether `version` is at least `min` (both "major.minor.patch", any suffix ignored). */
export function versionAtLeast(version: string, min: string): boolean {
  const a = version.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  const b = min.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== b[i]) return (a[i] ?? 0) > b[i];
  return true;
}

export class NomadState {
  index = 10;
  allocsIndex = 0;
  deploymentsIndex = 0;
  /** The variables table's index (state_store_variables.go: moved by every insert and delete). */
  variablesIndex = 0;
  readonly jobs = new Map<string, Job>();
  readonly events = new Map<string, { modifyIndex: number; byGroup: Map<string, ScalingEvent[]> }>();
  /** Past versions of each job, newest first (the job_version table; structs.JobDefaultTrackedVersions = 6 kept). */
  readonly versions = new Map<string, Job[]>();
  readonly allocs = new Map<string, Alloc>();
  /** The same allocations by job (the state store's allocs-by-job index), so reads do not scan them all. */
  readonly allocsByJob = new Map<string, Alloc[]>();
  /** The latest deployment of each job (Nomad keeps them all; the API reads the latest). */
  readonly deployments = new Map<string, Deployment>();
  /** The client nodes (the nodes table) in registration order, and its index. */
  readonly nodes = new Map<string, DoubleNodeRecord>();
  nodesIndex = 0;
  /** Where the scheduler's round-robin over ready nodes stands (see allocations.ts). */
  nodeCursor = 0;
  /** The service_registrations table by ID, and its index. */
  readonly services = new Map<string, ServiceRegistration>();
  servicesIndex = 0;
  /** The variables table, keyed by variableKey. */
  readonly variables = new Map<string, Variable>();
  /** The leader's lock TTL timers by lock ID (nomad/lock/ttl.go TTLTimer; see variables.ts). */
  readonly lockTtlTimers = new Map<string, { timer: NodeJS.Timeout; expire: () => void }>();
  readonly timers = new Set<NodeJS.Timeout>();
  readonly changes = new EventEmitter();
  stopped = false;
  /** Whether the servers have a leader; without one every forwarded RPC fails (see server.ts). */
  leader = true;
  /** The scheduler configuration's RejectJobRegistration (nomad/structs/operator.go SchedulerConfiguration). */
  rejectJobRegistration = false;
  /** The event broker's buffer: the newest `eventBufferSize` batches (nomad/stream/event_buffer.go). */
  readonly eventBuffer: StreamBatch[] = [];
  readonly published = new EventEmitter();
  /** Test faults on open event streams (see events.ts): 'drop' closes them all. */
  readonly streamControl = new EventEmitter();
  /** Open event streams send nothing, heartbeats included (see events.ts). */
  streamsSilent = false;

  constructor(
    readonly region: string,
    readonly namespaces: Set<string>,
    public pendingDelayMs: number,
    readonly config: ServerConfig,
  ) {
    this.changes.setMaxListeners(0);
    this.published.setMaxListeners(0);
    this.streamControl.setMaxListeners(0);
  }

  /**
   * Publishes what a write at `index` changed, as nomad/state/events.go eventsFromChanges does at
   * the end of each FSM transaction: the same Raft index, one batch; old batches fall off the head.
   */
  publish(index: number, events: NewEvent[]): void {
    const batch: StreamBatch = {
      Index: index,
      Events: events.map((e) => ({ ...e, FilterKeys: e.FilterKeys ?? null, Index: index, Payload: structuredClone(e.Payload) })),
    };
    this.eventBuffer.push(batch);
    while (this.eventBuffer.length > this.config.eventBufferSize) this.eventBuffer.shift();
    this.published.emit('batch', batch);
  }

  nextIndex(): number {
    return ++this.index;
  }
  /** Keeps a copy of the job's current version (state_store.go upsertJobVersion). */
  recordVersion(job: Job): void {
    const k = jobKey(job.Namespace, job.ID);
    const list = (this.versions.get(k) ?? []).filter((v) => v.Version !== job.Version);
    this.versions.set(k, [structuredClone(job), ...list].slice(0, 6));
  }
  /** Wakes blocked queries so they re-run. */
  bump(): void {
    this.changes.emit('change');
  }
  jobAllocs(namespace: string, id: string): Alloc[] {
    return this.allocsByJob.get(jobKey(namespace, id)) ?? [];
  }

  /** Runs `fn` after `ms` unless the double stops first (or `cancel` is called with the handle). */
  later(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.stopped) fn();
    }, ms);
    this.timers.add(t);
    return t;
  }
  cancel(t: NodeJS.Timeout): void {
    clearTimeout(t);
    this.timers.delete(t);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.bump();
    this.changes.emit('stopped');
  }
}

/** What every endpoint works on. */
export interface Cluster {
  state: NomadState;
  acl: Acl;
}
