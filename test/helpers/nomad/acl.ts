// ACL tokens and capabilities.
// Follows hashicorp/nomad:
// - nomad/auth/auth.go Authenticate: any token that fails authentication (unknown, malformed,
//   expired) becomes structs.ErrPermissionDenied, "Permission denied" (403 via http.go), because
//   every RPC maps an Authenticate error to it.
// - acl/policy.go expandNamespacePolicy: the read / write / scale shorthands below; "deny" wins.
// - An anonymous request (no token) gets the anonymous policy, modelled as no capabilities.
// - acl/acl.go AllowAgentRead: ACLs off, a management token, or an `agent` policy of read or write.
import { createHash } from 'node:crypto';
import { Answer } from './http';

/** One namespace rule of an ACL policy: a shorthand `policy` and/or explicit `capabilities`. */
export interface DoubleNamespaceRule {
  namespace: string;
  policy?: 'deny' | 'read' | 'write' | 'scale';
  capabilities?: string[];
}
export interface DoubleToken {
  secretId: string;
  management?: boolean;
  rules?: DoubleNamespaceRule[];
  /** The policy's `agent { policy = ... }` block (GET /v1/agent/self needs read). */
  agent?: 'deny' | 'read' | 'write';
  expired?: boolean;
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
}
