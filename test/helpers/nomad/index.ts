// A Nomad HTTP API double for tests, split by concern; each file cites the hashicorp/nomad source
// it follows (read, not copied): http.ts (command/agent/http.go), state.ts
// (nomad/state/state_store.go), acl.ts (acl/policy.go, nomad/auth/auth.go), blocking.ts
// (nomad/rpc.go blockingRPC), jobs.ts (command/agent/job_endpoint.go, nomad/job_endpoint.go
// Register/Deregister), scaling.ts (Job.Scale, Job.ScaleStatus), deployments.ts
// (the reconciler's createDeployment, the deployment watcher, Job.LatestDeployment),
// allocations.ts (the scheduler, the client's health watcher, Job.Allocations), events.ts
// (/v1/event/stream: command/agent/event_endpoint.go, nomad/stream/), agent.ts (/v1/agent/self:
// command/agent/agent_endpoint.go), variables.ts (/v1/var, /v1/vars and variable locks:
// command/agent/variable_endpoint.go, nomad/variables_endpoint.go, nomad/locks.go,
// nomad/state/state_store_variables.go), server.ts (routes, leader
// loss, the scheduler configuration, seeding, fault injection, the request log). The servers'
// version and configuration (NomadDoubleOptions.server) decide the version-dependent behaviour.
export { tokenHash, type DoubleNamespaceRule, type DoubleToken, type DoubleVariablesPathRule, type DoubleWorkloadClaim, type VariablesCapability } from './acl';
export type { DoubleAgent } from './agent';
export { formatGoDuration, parseGoBool, parseGoDuration } from './go';
export type { Variable, VariableLock } from './state';
export type { DoubleGroupSeed, DoubleJobSeed, DoubleScalingSeed } from './jobs';
export { rawCall } from './raw-call';
export { NomadDouble, type NomadDoubleOptions, type RecordedRequest, type RequestMatch } from './server';
export { DEFAULT_MIGRATE, DEFAULT_UPDATE, type DoubleMigrateSeed, type DoubleUpdateSeed } from './jobs';

/**
 * `update { max_parallel = 0 }`: a job whose count changes start no deployment (and whose
 * allocations are judged healthy by the migrate strategy), for tests that are not about deployments.
 */
export const NO_DEPLOYMENTS = { MaxParallel: 0 } as const;
