// ACL tokens and capabilities.
// Follows hashicorp/nomad:
// - nomad/auth/auth.go Authenticate: any token that fails authentication (unknown, malformed,
//   expired) becomes structs.ErrPermissionDenied, "Permission denied" (403 via http.go), because
//   every RPC maps an Authenticate error to it.
// - acl/policy.go expandNamespacePolicy: the read / write / scale shorthands below; "deny" wins.
// - An anonymous request (no token) gets the anonymous policy, modelled as no capabilities.
// - acl/acl.go AllowAgentRead: ACLs off, a management token, or an `agent` policy of read or write;
//   AllowNodeRead the same with the `node` policy.
// - Variables (acl/acl.go AllowVariableOperation, matchingVariablesCapabilitySet,
//   findClosestMatchingGlob; acl/policy.go expandVariablesCapabilities): each namespace block's
//   `variables { path "<spec>" { capabilities = [...] } }` is keyed "<namespace>\0<spec>"; a key whose
//   namespace or spec holds `*` is a glob (github.com/ryanuber/go-glob: `*` matches any run of
//   characters, `/` included). An exact key wins; then a workload identity's implicit read + list on
//   nomad/jobs, nomad/jobs/<job>, .../<group>, .../<task> in its own namespace (only where the caller
//   passes the claim: Variables.Read and Variables.List, not Apply); then the matching glob with the
//   smallest difference len(name) - len(glob) + count("*"). Capabilities of the same key merge;
//   "deny" alone expands to just deny, "read" brings "list"; the operation is allowed when its
//   capability is in the set (a "deny" merged with "write" by another rule does not take write away
//   — Check(op) looks for op only). Namespace `policy` shorthands grant no variable capability.
import { createHash } from 'node:crypto';
import { Answer } from './http';

/** A variables capability (acl/policy.go VariablesCapability*). */
export type VariablesCapability = 'read' | 'write' | 'list' | 'destroy' | 'deny';
/** One `path "<spec>" { capabilities = [...] }` of a namespace's `variables` block. */
export interface DoubleVariablesPathRule {
  path: string;
  capabilities: VariablesCapability[];
}
/** One namespace rule of an ACL policy: a shorthand `policy` and/or explicit `capabilities`, and its `variables` block. */
export interface DoubleNamespaceRule {
  namespace: string;
  policy?: 'deny' | 'read' | 'write' | 'scale';
  capabilities?: string[];
  variables?: DoubleVariablesPathRule[];
}
/** The claim of a workload identity (acl.ACLClaim): the task it was signed for. */
export interface DoubleWorkloadClaim {
  namespace: string;
  job: string;
  group: string;
  task: string;
}
export interface DoubleToken {
  secretId: string;
  management?: boolean;
  rules?: DoubleNamespaceRule[];
  /** The policy's `agent { policy = ... }` block (GET /v1/agent/self needs read). */
  agent?: 'deny' | 'read' | 'write';
  /** The policy's `node { policy = ... }` block (GET /v1/nodes and /v1/node/:id need read). */
  node?: 'deny' | 'read' | 'write';
  expired?: boolean;
  /** Makes the token a workload identity for this task; `rules` are then the policies attached to its job. */
  workload?: DoubleWorkloadClaim;
}

export const PERMISSION_DENIED = 'Permission denied';

const READ_CAPS = [
  'list-jobs',
  'parse-job',
  'read-job',
  'csi-list-volume',
  'csi-read-volume',
  'read-job-scaling',
  'list-scaling-policies',
  'read-scaling-policy',
  'host-volume-read',
];
const WRITE_CAPS = [
  ...READ_CAPS,
  'scale-job',
  'submit-job',
  'dispatch-job',
  'read-logs',
  'read-fs',
  'alloc-exec',
  'alloc-lifecycle',
  'csi-mount-volume',
  'csi-write-volume',
  'submit-recommendation',
  'host-volume-create',
];
const SCALE_CAPS = ['list-scaling-policies', 'read-scaling-policy', 'read-job-scaling', 'scale-job', 'read-job', 'submit-recommendation'];

/** ryanuber/go-glob Glob: `*` matches any run of characters; the pattern's other parts in order. */
export function goGlob(pattern: string, subj: string): boolean {
  if (pattern === '') return subj === pattern;
  if (pattern === '*') return true;
  const parts = pattern.split('*');
  if (parts.length === 1) return subj === pattern;
  const leading = pattern.startsWith('*');
  const trailing = pattern.endsWith('*');
  const end = parts.length - 1;
  for (let i = 0; i < end; i++) {
    const idx = subj.indexOf(parts[i]);
    if (i === 0 ? !leading && idx !== 0 : idx < 0) return false;
    subj = subj.slice(idx + parts[i].length);
  }
  return trailing || subj.endsWith(parts[end]);
}

/** expandVariablesCapabilities: "deny" alone stands for itself; "read" without "list" adds "list". */
function expandVariablesCapabilities(caps: VariablesCapability[]): VariablesCapability[] {
  if (caps.includes('deny')) return ['deny'];
  return caps.includes('read') && !caps.includes('list') ? [...caps, 'list'] : caps;
}

/** A stable, non-reversible fingerprint of a token, as recorded in place of the token itself. */
export function tokenHash(token: string): string {
  return `sha256:${createHash('sha256').update(token).digest('hex').slice(0, 16)}`;
}

export class Acl {
  readonly tokens = new Map<string, DoubleToken>();
  constructor(
    public enabled: boolean,
    tokens: DoubleToken[],
  ) {
    for (const t of tokens) this.tokens.set(t.secretId, t);
  }

  /** Authentication alone (Authenticate), for RPCs that check it before anything else. */
  authenticate(token: string | undefined): void {
    if (!this.enabled || token === undefined) return;
    const t = this.tokens.get(token);
    if (!t || t.expired) throw new Answer(403, PERMISSION_DENIED);
  }

  /** Whether the token is a management token (or ACLs are off, where every request acts as one). */
  isManagement(token: string | undefined): boolean {
    if (!this.enabled) return true;
    return token !== undefined && this.tokens.get(token)?.management === true;
  }

  /** A management token (IsManagement), after authentication; either failure is "Permission denied". */
  authorizeManagement(token: string | undefined): void {
    if (!this.enabled) return;
    this.authenticate(token);
    if (!this.isManagement(token)) throw new Answer(403, PERMISSION_DENIED);
  }

  /** agent:read (AllowAgentRead), after authentication; either failure is "Permission denied". */
  authorizeAgentRead(token: string | undefined): void {
    if (!this.enabled) return;
    const t = token === undefined ? undefined : this.tokens.get(token);
    if (token !== undefined && (!t || t.expired)) throw new Answer(403, PERMISSION_DENIED);
    if (t?.management || t?.agent === 'read' || t?.agent === 'write') return;
    throw new Answer(403, PERMISSION_DENIED);
  }

  /** node:read (AllowNodeRead), after authentication; either failure is "Permission denied". */
  authorizeNodeRead(token: string | undefined): void {
    if (!this.enabled) return;
    this.authenticate(token);
    const t = token === undefined ? undefined : this.tokens.get(token);
    if (t?.management || t?.node === 'read' || t?.node === 'write') return;
    throw new Answer(403, PERMISSION_DENIED);
  }

  /** Authenticate then check capabilities (AllowNsOp for any of `anyOf`); either failure is "Permission denied". */
  authorize(token: string | undefined, namespace: string, anyOf: string[]): void {
    if (!this.enabled) return;
    let t: DoubleToken | undefined;
    if (token !== undefined) {
      t = this.tokens.get(token);
      if (!t || t.expired) throw new Answer(403, PERMISSION_DENIED);
    }
    if (t?.management) return;
    const caps = new Set<string>();
    for (const r of t?.rules ?? []) {
      if (r.namespace !== namespace && r.namespace !== '*') continue;
      const expanded =
        r.policy === 'read' ? READ_CAPS : r.policy === 'write' ? WRITE_CAPS : r.policy === 'scale' ? SCALE_CAPS : r.policy === 'deny' ? ['deny'] : [];
      for (const c of [...expanded, ...(r.capabilities ?? [])]) caps.add(c);
    }
    if (caps.has('deny') || !anyOf.some((c) => caps.has(c))) throw new Answer(403, PERMISSION_DENIED);
  }

  /** The token's workload claim, if it is a workload identity (auth.IdentityToACLClaim). */
  claimOf(token: string | undefined): DoubleWorkloadClaim | undefined {
    return token === undefined ? undefined : this.tokens.get(token)?.workload;
  }

  /**
   * AllowVariableOperation(ns, path, op, claim) for a token that already authenticated (ACLs off
   * and management tokens may do anything; an anonymous request holds no variables rule).
   */
  allowVariable(token: string | undefined, namespace: string, path: string, op: VariablesCapability, claim?: DoubleWorkloadClaim): boolean {
    if (!this.enabled) return true;
    const t = token === undefined ? undefined : this.tokens.get(token);
    if (t?.management) return true;
    const exact = new Map<string, Set<string>>();
    const globs = new Map<string, Set<string>>();
    for (const r of t?.rules ?? []) {
      for (const p of r.variables ?? []) {
        const key = `${r.namespace}\u0000${p.path}`;
        const table = r.namespace.includes('*') || p.path.includes('*') ? globs : exact;
        const set = table.get(key) ?? new Set<string>();
        for (const cap of expandVariablesCapabilities(p.capabilities)) set.add(cap);
        table.set(key, set);
      }
    }
    const name = `${namespace}\u0000${path}`;
    let caps = exact.get(name);
    if (!caps && claim && namespace === claim.namespace) {
      const own = ['nomad/jobs', `nomad/jobs/${claim.job}`, `nomad/jobs/${claim.job}/${claim.group}`, `nomad/jobs/${claim.job}/${claim.group}/${claim.task}`];
      if (own.includes(path)) caps = new Set(['read', 'list']); // workloadVariablesCapabilitySet
    }
    if (!caps) {
      // The radix tree walks keys in byte order; sort.SliceStable with a `<=` comparator lets the
      // last of equally close globs come first.
      let best: { difference: number; set: Set<string> } | undefined;
      for (const key of [...globs.keys()].sort()) {
        if (!goGlob(key, name)) continue;
        const difference = name.length - key.length + key.split('*').length - 1;
        if (!best || difference <= best.difference) best = { difference, set: globs.get(key)! };
      }
      caps = best?.set;
    }
    return caps?.has(op) ?? false;
  }
}
