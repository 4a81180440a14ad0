// A Nomad HTTP API double for tests, split by concern; each file cites the hashicorp/nomad source
// it follows (read, not copied): http.ts (command/agent/http.go), state.ts
// (nomad/state/state_store.go), acl.ts (acl/policy.go, acl/acl.go, nomad/auth/auth.go), blocking.ts
// (nomad/rpc.go blockingRPC), jobs.ts (command/agent/job_endpoint.go, nomad/job_endpoint.go
// Register/Deregister), scaling.ts (Job.Scale, Job.ScaleStatus), deployments.ts
// (the reconciler's createDeployment, the deployment watcher, Job.LatestDeployment),
// allocations.ts (the scheduler, the client's health watcher, Job.Allocations), events.ts
// (/v1/event/stream: command/agent/event_endpoint.go, nomad/stream/), agent.ts (/v1/agent/self:
// command/agent/agent_endpoint.go), server.ts (routes, leader loss, the scheduler configuration,
// seeding, fault injection, barriers, the request log). The servers' version and configuration
// (NomadDoubleOptions.server) decide the version-dependent behaviour.
//
// Cluster coordination (what several agents share through Nomad):
// - variables.ts: /v1/var and /v1/vars with check-and-set and locks (command/agent/
//   variable_endpoint.go, nomad/variables_endpoint.go, nomad/state/state_store_variables.go,
//   nomad/locks.go); `variables { path … }` ACL rules in acl.ts. Nomad takes no lock TTL under
//   10 s: tests set server.lockTimeScale to make the lock clock run faster instead.
// - services.ts: /v1/services and /v1/service/:name, filled by running allocations' provider
//   "nomad" group services or by registerService (nomad/service_registration_endpoint.go).
// - nodes.ts: several client nodes (option `nodes`, addNode, setNodeStatus); allocations go to ready
//   nodes in turn, so a test knows each allocation's NodeID.
// - NomadDouble.barrier: holds N matching requests, then handles them in the order the test picks.
export { tokenHash, type DoubleNamespaceRule, type DoubleToken, type DoubleVariablesPathRule, type DoubleWorkloadClaim, type VariablesCapability } from './acl';
export type { DoubleAgent } from './agent';
export { formatGoDuration, parseGoBool, parseGoDuration } from './go';
export type { DoubleNodeRecord, ServiceRegistration, Variable, VariableLock } from './state';
export type { DoubleGroupSeed, DoubleJobSeed, DoubleScalingSeed, DoubleServiceSeed } from './jobs';
export { DEFAULT_NODE, type DoubleNodeSeed } from './nodes';
export type { DoubleServiceRegistrationSeed } from './services';
export { rawCall } from './raw-call';
export { NomadDouble, type BarrierOptions, type NomadDoubleOptions, type RecordedRequest, type RequestMatch } from './server';
export { DEFAULT_MIGRATE, DEFAULT_UPDATE, type DoubleMigrateSeed, type DoubleUpdateSeed } from './jobs';

/**
 * `update { max_parallel = 0 }`: a job whose count changes start no deployment (and whose
 * allocations are judged healthy by the migrate strategy), for tests that are not about deployments.
 */
export const NO_DEPLOYMENTS = { MaxParallel: 0 } as const;
