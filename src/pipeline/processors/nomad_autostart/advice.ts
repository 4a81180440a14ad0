// What to tell a person when Nomad refuses: each message says what was refused and how to fix it.
import type { AutostartRule } from '../../../config/types';
import type { CompiledRule } from './rules';

/** The Nomad calls the processor makes. */
export type NomadCall =
  | 'scale status'
  | 'scale'
  | 'job read'
  | 'job register'
  | 'deployment read'
  | 'event stream'
  | 'agent read'
  | 'variable read'
  | 'variable list'
  | 'variable write'
  | 'lock';

/**
 * The ACL capabilities Nomad accepts for each call, the one to ask for first: namespace
 * capabilities (hashicorp/nomad nomad/job_endpoint.go; nomad/event_endpoint.go validateNsOp for the
 * stream's Job and Deployment topics), `agent:read`, the policy's `agent` block
 * (command/agent/agent_endpoint.go AgentSelfRequest, acl/acl.go AllowAgentRead), and
 * `variables:<op>`, a capability of a `variables { path … }` block in the namespace
 * (nomad/variables_endpoint.go: Read needs read, List filters by list, which read grants
 * (acl/policy.go expandVariablesCapabilities), writes and every lock operation need write).
 * test/unit/packaging/nomad-policy.test.ts checks them against the endpoints the code calls.
 */
export const CALL_CAPABILITIES: Readonly<Record<NomadCall, readonly [string, ...string[]]>> = {
  'scale status': ['read-job', 'read-job-scaling'],
  scale: ['scale-job'],
  'job read': ['read-job'],
  'job register': ['submit-job'],
  'deployment read': ['read-job'],
  'event stream': ['read-job'],
  'agent read': ['agent:read'],
  'variable read': ['variables:read'],
  'variable list': ['variables:read', 'variables:list'],
  'variable write': ['variables:write'],
  lock: ['variables:write'],
};

/**
 * What the cluster's sleep needs on its Variables: read (each node's activity under
 * cluster.variables_prefix; it grants list too) and write (this node's activity, and the locks under
 * cluster.lock_path, which are never read). Never destroy: nothing is deleted.
 */
export const VARIABLES_CAPABILITIES = ['read', 'write'] as const;

/** The `path` rules of a variables block for both paths: their common parent and below, else each with what it needs. */
export function variablesPaths(prefix: string, lockPath: string): { path: string; capabilities: string[] }[] {
  const a = prefix.split('/');
  const b = lockPath.split('/');
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  if (n > 0) return [{ path: `${a.slice(0, n).join('/')}/*`, capabilities: [...VARIABLES_CAPABILITIES] }];
  return [
    { path: `${prefix}/*`, capabilities: [...VARIABLES_CAPABILITIES] },
    { path: `${lockPath}/*`, capabilities: ['write'] },
  ];
}

/** The policy block the cluster's sleep needs, as HCL. */
export function variablesPolicy(namespace: string, prefix: string, lockPath: string): string {
  const paths = variablesPaths(prefix, lockPath)
    .map((p) => `path "${p.path}" { capabilities = [${p.capabilities.map((c) => `"${c}"`).join(', ')}] }`)
    .join(' ');
  return `namespace "${namespace}" { variables { ${paths} } }`;
}

/**
 * The policy's `agent` block: GET /v1/agent/self tells the servers' version, which decides one
 * check-and-set write per wake; refused, `server_version` stands in (write-mode.ts). Never "write".
 */
export const AGENT_POLICY = 'read';
export const agentPolicy = (): string => `agent { policy = "${AGENT_POLICY}" }`;

const capabilityText = (call: NomadCall): string => {
  const [first, ...others] = CALL_CAPABILITIES[call];
  return others.length ? `${first} (or ${others.join(' or ')})` : first;
};

const where = (r: CompiledRule): string => `job "${r.cfg.job}" group "${r.cfg.group}" in namespace "${r.cfg.namespace}"`;

/**
 * The capabilities a rule needs in its namespace: read-job (the event stream, the job, its
 * deployment, the scale status) and scale-job, and submit-job to start a stopped job. The agent
 * block (AGENT_POLICY) is the processor's, not a rule's.
 */
export function capabilitiesFor(rule: Pick<AutostartRule, 'start_stopped'>): string[] {
  return ['read-job', 'scale-job', ...(rule.start_stopped ? ['submit-job'] : [])];
}

/** The ACL policy the rule needs, as HCL. */
export function policyFor(r: CompiledRule): string {
  const caps = capabilitiesFor(r.cfg).map((c) => `"${c}"`);
  return `namespace "${r.cfg.namespace}" { capabilities = [${caps.join(', ')}] }`;
}

export function forbidden(r: CompiledRule, call: NomadCall): string {
  return (
    `Nomad refused the ${call} of ${where(r)} (403 Permission denied): the token needs ${capabilityText(call)}, e.g. the policy ` +
    `${policyFor(r)}; rule ${r.name} is disabled until the configuration is reloaded`
  );
}

const MIN = /less than scaling policy minimum: (-?\d+) < (-?\d+)/;
const MAX = /greater than scaling policy maximum: (-?\d+) > (-?\d+)/;

/** Job.Scale's min/max texts, turned into the fix for this rule. */
export function policyViolation(r: CompiledRule, body: string, action: 'wake' | 'sleep'): string {
  const min = MIN.exec(body);
  const max = MAX.exec(body);
  const head = `Nomad refused to scale ${where(r)}: ${body.trim()}`;
  if (action === 'sleep' && min) {
    return (
      `${head}. Its scaling policy's minimum is ${min[2]}, so it cannot go to 0 (without an explicit min, Nomad sets it to the group's count when ` +
      `the job is registered); add "min = 0" to the group's scaling block and re-submit the job, or remove idle_after from rule ${r.name}. ` +
      'No more scale-downs are tried for this group until the agent reloads or wakes it again'
    );
  }
  if (min)
    return `${head}. Rule ${r.name} asks for count ${min[1]}, below the scaling policy's minimum ${min[2]}; set count: ${min[2]} in the rule, or lower min in the group's scaling block`;
  if (max) {
    return `${head}. Rule ${r.name} asks for count ${max[1]}, above the scaling policy's maximum ${max[2]}; set count: ${max[2]} or less in the rule, or raise max in the group's scaling block`;
  }
  return head;
}

/** A 500 that asking again would only repeat: job validation, job_max_count. */
export function validationFailed(r: CompiledRule, call: NomadCall, body: string): string {
  const text = body.trim().replace(/\s+/g, ' ');
  const hint = /job_max_count/.test(body)
    ? `; the servers' job_max_count caps the job's total count: lower count in rule ${r.name} or raise job_max_count in the server configuration`
    : '; fix the job (nomad job validate) and re-submit it';
  return `Nomad refused the ${call} of ${where(r)}: ${text}${hint}. Not retried: asking again gets the same answer`;
}

/** 403 from the scheduler configuration's RejectJobRegistration: an operator switch, not the token. */
export function registrationDisabled(r: CompiledRule, maxBackoff: string): string {
  return (
    `Nomad refused to scale ${where(r)}: job registration, dispatch and scale are disabled by the scheduler configuration ` +
    `(nomad operator scheduler set-config -reject-job-registration=true) for every token but a management one; the token's policy is not the cause. ` +
    `Retrying with backoff (at most every ${maxBackoff}) until an operator turns it off`
  );
}

export function jobNotFound(r: CompiledRule): string {
  return `Nomad has no job "${r.cfg.job}" in namespace "${r.cfg.namespace}" (404); check job and namespace of rule ${r.name}`;
}

export function groupNotFound(r: CompiledRule, groups: readonly string[]): string {
  return `job "${r.cfg.job}" in namespace "${r.cfg.namespace}" has no task group "${r.cfg.group}" (it has ${groups.length ? groups.map((g) => `"${g}"`).join(', ') : 'none'}); fix group in rule ${r.name}`;
}

export function jobStopped(r: CompiledRule): string {
  return `job "${r.cfg.job}" in namespace "${r.cfg.namespace}" is stopped; rule ${r.name} leaves stopped jobs alone (start_stopped: true would start it, with the submit-job capability)`;
}

/** The token cannot read the namespace's jobs (no read-job): no event stream, no warm state there. */
export function cannotReadJobs(namespace: string): string {
  return `the token cannot read the jobs of namespace ${namespace} (${capabilityText('event stream')}), so it cannot follow their event stream: wakes there read the scale status before each write`;
}

/** Why /v1/agent/self told no version, when the token may not read it. */
export const agentSelfRefused = (): string => `the token cannot read it (${capabilityText('agent read')})`;

/** The servers' version is unknown (neither /v1/agent/self nor server_version): every wake reads before it writes. */
export function versionUnknown(agentSelfProblem: string): string {
  return (
    `the Nomad servers' version is unknown (/v1/agent/self: ${agentSelfProblem}; server_version is not set): every wake reads the group's scale status before it writes; ` +
    `grant ${capabilityText('agent read')} (${agentPolicy()} in the token's policy) or set server_version for one write per wake`
  );
}

/**
 * The token may not use the cluster's Variables: each agent judges from its own traffic until a
 * later try works, and only the waker of a group puts it to sleep.
 */
export function variablesRefused(call: NomadCall, path: string, namespace: string, policy: string, again: string): string {
  return (
    `Nomad refused the ${call} of variable ${path} in namespace ${namespace} (403 Permission denied): the token needs ${capabilityText(call)} there, e.g. the policy ` +
    `${policy}. Until then sleep is decided by each agent from its own traffic, and only the agent that woke a group puts it back to sleep; asked again every ${again}`
  );
}
