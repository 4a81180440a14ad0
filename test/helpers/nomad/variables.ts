// Nomad Variables and their locks: GET/PUT/POST/DELETE /v1/var/:path, GET /v1/vars.
// Follows hashicorp/nomad:
// - command/agent/variable_endpoint.go: VariablesListRequest (any method but GET: 405 "Invalid
//   method"); VariableSpecificRequest: "/v1/var/" alone is 400 "missing variable path", a method
//   other than GET/PUT/POST/DELETE is 400 (not 405) "Invalid method"; getLockOperation: the query
//   keys `lock-acquire`, `lock-renew`, `lock-release` (present, any value), more than one is 400
//   "multiple lock operations"; `cas` with one of them is 400 "CAS can't be used with lock
//   operations"; parseCAS: strconv.ParseUint, "can not parse cas: strconv.ParseUint: parsing
//   "<v>": invalid syntax" (400); variableUpsert: no Items is 400 "variable missing required Items
//   object", the URL's path wins over the body's; a conflict answers 409 with the conflicting
//   variable as JSON and X-Nomad-Index = its ModifyIndex; success 200 with the written variable and
//   X-Nomad-Index = the Raft index; variableDelete: 204 with X-Nomad-Index; variableQuery: 404
//   "variable not found" after setMeta; variableLockOperation (acquire, release): 409 with the
//   conflict, but its deferred setIndex runs after WriteHeader, so a lock conflict carries no
//   X-Nomad-Index; variableLockRenew: 200 with the variable's metadata, no index header. An RPC
//   error after the call leaves X-Nomad-Index: 0 (setIndex of the empty reply) on the error answer.
// - nomad/variables_endpoint.go Variables.Apply: Authenticate ("Permission denied"); the target
//   namespace is the body's Namespace, else the request's; hasOperationPermissions: write for set,
//   cas, lock-acquire, lock-release, destroy for delete and delete-cas (no claim: a workload
//   identity's implicit read does not let it write); canonicalizeAndValidate, whose error Apply
//   wraps once more in NewErrRPCCoded(400, …) — so the HTTP body keeps one "RPC Error:: 400,"
//   prefix per extra wrapping (errCodeFromHandler strips only the outer one); every Apply that
//   reaches Raft takes an index, conflicts included; makeVariablesApplyResponse: the written
//   variable's Lock is shown only to its owner (same Lock.ID in the request) or a management
//   token; a conflict is shown whole (Items and Lock) to a caller that may read the path, as
//   metadata only otherwise, and a zero-valued conflict (a lock in the way) as {Namespace, Path}.
//   Variables.Read: read (with the workload claim) before the lookup; the Lock is shown to
//   management only; index = the variable's ModifyIndex, or the table's (at least 1) when absent.
//   Variables.List: no upfront check, each variable filtered by list (with the claim); prefix on the
//   path; namespace "*" lists all; metadata only, Lock to management only; index = the table's.
//   Variables.RenewLock: write on the request's namespace (the body's is ignored), Validate (a
//   missing lock ID is a go-multierror, a plain error: 500), then 404 "variable doesn't exist",
//   409 "variable doesn't hold a lock", 409 "attempting to modify locked variable" for another ID
//   and for a lock whose TTL timer already fired.
// - nomad/state/state_store_variables.go: varSetCASTxn (cas 0 = must not exist, else the stored
//   ModifyIndex must match; a missing variable conflicts as a zero value {Namespace, Path});
//   varSetTxn (a locked variable needs the lock's ID in the request, else a zero-valued conflict;
//   CreateIndex/CreateTime kept, ModifyIndex = the Raft index); svDeleteCASTxn / svDeleteTxn
//   (deleting a missing variable succeeds; cas 0 on a missing one succeeds; the HTTP delete
//   carries no lock, so a locked variable cannot be deleted); VarLockAcquire (overwrites the
//   variable, Items included); VarLockRelease (plain errors "variable doesn't exist" and "variable
//   doesn't hold a lock" → 500; another ID → conflict {Namespace, Path, Lock: {}}; keeps the
//   Items, moves ModifyIndex only).
// - nomad/structs/variables.go: JSON shape (VariableMetadata: Namespace, Path, Lock omitempty,
//   CreateIndex, CreateTime, ModifyIndex, ModifyTime; Items omitempty); VariableLock MarshalJSON
//   {TTL, LockDelay, ID} with durations as Go duration strings ("" for 0), UnmarshalJSON taking a
//   duration string or a number of nanoseconds; Lock.Canonicalize (a new uuid ID when none is given,
//   TTL and LockDelay default 15 s); Lock.Validate ("Lock delay and TTL must be positive", "TTL must
//   be between 10 seconds and 24 hours"); Validate / ValidateForLock / ValidatePath (texts verbatim;
//   the 64 KiB limit on the sum of key and value lengths).
// - nomad/locks.go: on acquire the leader starts a timer of 2 × TTL; renew resets it; release stops
//   it; when it fires it is removed and, LockDelay later, invalidateVariableLock commits a
//   lock-release that names no lock ID (so it removes whatever lock the variable holds then); until
//   then the variable still holds the lock, so an acquire is a conflict and a renew is "attempting
//   to modify locked variable". Only a TTL expiry brings the delay; a release frees at once. A
//   leader that steps down stops its TTL timers (leader.go revokeLeadership); the next leader starts
//   one per locked variable (restoreLockTTLTimers). nomad/lock/delay.go's DelayTimer is set by
//   nothing, so it is not modelled.
// Simplifications: no keyring (Items kept in clear; varSetTxn's "unchanged" shortcut never fires on
// Nomad either, as encryption nonces differ); no pagination or filter on the list; no quotas; no
// Variable events on the event stream; invalid JSON answers the decoder's text of Node, not Go's.
// Timers run `lockTimeScale` times faster than the wall clock (state.ts ServerConfig).
import { randomUUID } from 'node:crypto';
import type * as http from 'node:http';
import type { DoubleWorkloadClaim } from './acl';
import { blocking } from './blocking';
import { formatGoDuration, multierror, parseGoDuration } from './go';
import { Answer, notFoundAfterRead, parseBody, readMeta, sendJson, type RequestContext } from './http';
import { variableKey, type Cluster, type NomadState, type Variable, type VariableLock } from './state';

export type VarOp = 'set' | 'cas' | 'delete' | 'delete-cas' | 'lock-acquire' | 'lock-release';

const MAX_VARIABLE_SIZE = 65536; // structs.maxVariableSize
const MIN_LOCK_TTL_NS = 10e9; // structs.minVariableLockTTL
const MAX_LOCK_TTL_NS = 24 * 3600e9; // structs.maxVariableLockTTL
const DEFAULT_LOCK_TTL_NS = 15e9; // structs.defaultLockTTL
const DEFAULT_LOCK_DELAY_NS = 15e9; // structs.defaultLockDelay
const RAFT_APPLY_ATTEMPTS = 6; // nomad/variables_endpoint.go maxAttemptsToRaftApply
const VALID_VARIABLE_PATH = /^[a-zA-Z0-9-_~/]{1,128}$/; // structs.validVariablePath
const RPC_CODED_PREFIX = 'RPC Error:: '; // structs.errRPCCodedErrorPrefix

/** structs.NewErrRPCCoded. */
const rpcCoded = (code: number, msg: string): string => `${RPC_CODED_PREFIX}${code},${msg}`;

/** How http.go wrap answers an RPC error: CodeFromRPCCodedErr strips one coded prefix; else the known suffixes; else 500. */
function rpcAnswer(err: string): Answer {
  if (err.startsWith(RPC_CODED_PREFIX)) {
    const rest = err.slice(RPC_CODED_PREFIX.length);
    const comma = rest.indexOf(',');
    if (comma >= 0 && /^[-+]?\d+$/.test(rest.slice(0, comma))) return new Answer(Number(rest.slice(0, comma)), rest.slice(comma + 1));
  }
  if (err.endsWith('Permission denied')) return new Answer(403, 'Permission denied');
  return new Answer(500, err);
}

const PERMISSION_DENIED = 'Permission denied';
// nomad/variables_endpoint.go's coded errors.
const ERR_VAR_NOT_FOUND = rpcCoded(404, "variable doesn't exist");
const ERR_LOCK_NOT_FOUND = rpcCoded(409, "variable doesn't hold a lock");
const ERR_VAR_IS_LOCKED = rpcCoded(409, 'attempting to modify locked variable');
const ERR_MISSING_LOCK_INFO = rpcCoded(400, 'missing lock information');
const ERR_LOCK_ON_VAR_CREATION = rpcCoded(400, 'variable should not contain lock definition');
const ERR_ITEMS_ON_RELEASE = rpcCoded(400, "lock release operation doesn't take variable items");
// nomad/state/state_store_variables.go's plain errors (500 over HTTP).
const STATE_VAR_NOT_FOUND = "variable doesn't exist";
const STATE_LOCK_NOT_FOUND = "variable doesn't hold a lock";

/** The request's variable (structs.VariableDecrypted as decoded from the body). */
interface VarRequest {
  Namespace: string;
  Path: string;
  Lock: VariableLock | null;
  ModifyIndex: number;
  Items: Record<string, string> | null;
}

/** structs.VarApplyStateResponse, as the FSM returns it. */
type StateResult = { result: 'ok'; written: Variable | null } | { result: 'conflict'; conflict: Variable; zero: boolean } | { result: 'error'; error: string };

// ---- JSON ---------------------------------------------------------------------------------

/** VariableLock.MarshalJSON: {TTL, LockDelay, ID}, zero durations as "". */
function lockJson(l: VariableLock): Record<string, unknown> {
  return { TTL: l.TTL === 0 ? '' : formatGoDuration(l.TTL), LockDelay: l.LockDelay === 0 ? '' : formatGoDuration(l.LockDelay), ID: l.ID };
}

/** VariableMetadata (and VariableDecrypted when `items`) in Go's field order, omitempty honoured. */
function varJson(v: Variable, opts: { lock: boolean; items: Record<string, string> | null }): Record<string, unknown> {
  const out: Record<string, unknown> = { Namespace: v.Namespace, Path: v.Path };
  if (opts.lock && v.Lock) out.Lock = lockJson(v.Lock);
  Object.assign(out, { CreateIndex: v.CreateIndex, CreateTime: v.CreateTime, ModifyIndex: v.ModifyIndex, ModifyTime: v.ModifyTime });
  if (opts.items && Object.keys(opts.items).length > 0) out.Items = { ...opts.items };
  return out;
}

/** Go's encoding/json field matching is case-insensitive. */
function field(body: Record<string, unknown>, name: string): unknown {
  if (name in body) return body[name];
  const k = Object.keys(body).find((x) => x.toLowerCase() === name.toLowerCase());
  return k === undefined ? undefined : body[k];
}

const goType = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'object' ? 'object' : typeof v);

/** VariableLock.UnmarshalJSON for one duration: a Go duration string or nanoseconds; anything else is ignored. */
function lockDuration(v: unknown): number {
  if (typeof v === 'number') return Math.trunc(v);
  if (typeof v === 'string' && v !== '') {
    const ms = parseGoDuration(v);
    if (ms === undefined) throw new Answer(400, `time: invalid duration ${JSON.stringify(v)}`);
    return Math.round(ms * 1e6);
  }
  return 0;
}

/** decodeBody into structs.VariableDecrypted. */
function decodeVariable(raw: string): VarRequest {
  const body = parseBody(raw);
  const str = (name: string): string => {
    const v = field(body, name);
    if (v === undefined || v === null) return '';
    if (typeof v !== 'string') throw new Answer(400, `json: cannot unmarshal ${goType(v)} into Go struct field VariableDecrypted.${name} of type string`);
    return v;
  };
  const itemsRaw = field(body, 'Items');
  let items: Record<string, string> | null = null;
  if (itemsRaw !== undefined && itemsRaw !== null) {
    if (goType(itemsRaw) !== 'object')
      throw new Answer(400, `json: cannot unmarshal ${goType(itemsRaw)} into Go struct field VariableDecrypted.Items of type structs.VariableItems`);
    items = {};
    for (const [k, v] of Object.entries(itemsRaw as Record<string, unknown>)) {
      if (typeof v !== 'string') throw new Answer(400, `json: cannot unmarshal ${goType(v)} into Go struct field VariableDecrypted.Items of type string`);
      items[k] = v;
    }
  }
  const lockRaw = field(body, 'Lock');
  let lock: VariableLock | null = null;
  if (lockRaw !== undefined && lockRaw !== null) {
    if (goType(lockRaw) !== 'object') throw new Answer(400, `json: cannot unmarshal ${goType(lockRaw)} into Go value of type structs.Alias`);
    const l = lockRaw as Record<string, unknown>;
    const id = field(l, 'ID');
    lock = { ID: typeof id === 'string' ? id : '', TTL: lockDuration(field(l, 'TTL')), LockDelay: lockDuration(field(l, 'LockDelay')) };
  }
  const mi = field(body, 'ModifyIndex');
  return { Namespace: str('Namespace'), Path: str('Path'), Lock: lock, ModifyIndex: typeof mi === 'number' ? mi : 0, Items: items };
}

// ---- validation (nomad/structs/variables.go) ------------------------------------------------

function itemsSize(items: Record<string, string> | null): number {
  let n = 0;
  for (const [k, v] of Object.entries(items ?? {})) n += Buffer.byteLength(k) + Buffer.byteLength(v);
  return n;
}

/** structs.ValidatePath. */
export function validatePath(path: string): string | undefined {
  if (path.length === 0) return 'variable requires path';
  if (!VALID_VARIABLE_PATH.test(path)) return `invalid path ${JSON.stringify(path)}`;
  const parts = path.split('/');
  if (parts[0] !== 'nomad') return undefined;
  if (parts.length === 1)
    return '"nomad" is a reserved top-level directory path, but you may write variables to "nomad/jobs", "nomad/job-templates", "nomad/sentinel", or below';
  if (parts[1] === 'jobs' || parts[1] === 'sentinel') return undefined;
  if (parts[1] === 'job-templates' && parts.length === 3) return undefined;
  if (parts[1] === 'job-templates')
    return '"nomad/job-templates" is a reserved directory path, but you may write variables at the level below it, for example, "nomad/job-templates/template-name"';
  return 'only paths at "nomad/jobs" or "nomad/job-templates" and below are valid paths under the top-level "nomad" directory';
}

/** VariableLock.Validate (a go-multierror list). */
function validateLock(l: VariableLock): string | undefined {
  const errs: string[] = [];
  if (l.LockDelay < 0 || l.TTL < 0) errs.push('Lock delay and TTL must be positive');
  if (l.TTL > MAX_LOCK_TTL_NS || l.TTL < MIN_LOCK_TTL_NS) errs.push('TTL must be between 10 seconds and 24 hours');
  return errs.length ? multierror(errs) : undefined;
}

/** VariableLock.Canonicalize. */
function canonicalizeLock(l: VariableLock): void {
  if (l.ID === '') l.ID = randomUUID();
  if (l.LockDelay === 0) l.LockDelay = DEFAULT_LOCK_DELAY_NS;
  if (l.TTL === 0) l.TTL = DEFAULT_LOCK_TTL_NS;
}

/** Variables.canonicalizeAndValidate: the error as it leaves that function (Apply wraps it again). */
function canonicalizeAndValidate(op: VarOp, v: VarRequest): string | undefined {
  switch (op) {
    case 'lock-acquire': {
      v.Lock ??= { ID: '', TTL: 0, LockDelay: 0 };
      canonicalizeLock(v.Lock);
      // ValidateForLock
      let err: string | undefined;
      if (v.Namespace === '*') err = multierror(['can not target wildcard ("*")namespace']);
      else if (itemsSize(v.Items) > MAX_VARIABLE_SIZE) err = 'variables are limited to 64KiB in total size';
      else err = validatePath(v.Path) ?? validateLock(v.Lock);
      return err === undefined ? undefined : rpcCoded(400, err);
    }
    case 'set':
    case 'cas': {
      if (v.Lock && (v.Lock.LockDelay !== 0 || v.Lock.TTL !== 0)) return rpcCoded(400, ERR_LOCK_ON_VAR_CREATION);
      if (v.Lock) canonicalizeLock(v.Lock);
      // VariableDecrypted.Validate
      let err: string | undefined;
      if (v.Namespace === '*') err = 'can not target wildcard ("*")namespace';
      else if (!v.Items || Object.keys(v.Items).length === 0) err = 'empty variables are invalid';
      else if (itemsSize(v.Items) > MAX_VARIABLE_SIZE) err = 'variables are limited to 64KiB in total size';
      else err = validatePath(v.Path) ?? (v.Lock ? validateLock(v.Lock) : undefined);
      return err === undefined ? undefined : rpcCoded(400, err);
    }
    case 'delete':
    case 'delete-cas':
      return v.Path === '' ? rpcCoded(400, 'delete requires a Path') : undefined;
    case 'lock-release':
      if (!v.Lock || v.Lock.ID === '') return ERR_MISSING_LOCK_INFO;
      if (v.Items !== null) return ERR_ITEMS_ON_RELEASE;
      return validatePath(v.Path);
  }
}

// ---- the state store (nomad/state/state_store_variables.go) ----------------------------------

/** isLocked: a held lock refuses any request that does not carry its ID. */
const isLocked = (lock: VariableLock | null, req: VarRequest): boolean => lock !== null && (req.Lock === null || req.Lock.ID !== lock.ID);

const zeroVar = (ns: string, path: string, lock: VariableLock | null = null): Variable => ({
  Namespace: ns,
  Path: path,
  Lock: lock,
  CreateIndex: 0,
  CreateTime: 0,
  ModifyIndex: 0,
  ModifyTime: 0,
  Items: null,
});

function tableWrite(state: NomadState, idx: number): void {
  state.variablesIndex = idx;
}

/** varSetTxn. */
function varSet(state: NomadState, idx: number, req: VarRequest, now: number): StateResult {
  const k = variableKey(req.Namespace, req.Path);
  const existing = state.variables.get(k);
  const stored: Variable = {
    Namespace: req.Namespace,
    Path: req.Path,
    Lock: req.Lock ? { ...req.Lock } : null,
    CreateIndex: idx,
    CreateTime: now,
    ModifyIndex: idx,
    ModifyTime: now,
    Items: req.Items ? { ...req.Items } : null,
  };
  if (existing) {
    if (isLocked(existing.Lock, req)) return { result: 'conflict', conflict: zeroVar(req.Namespace, req.Path), zero: true };
    stored.CreateIndex = existing.CreateIndex;
    stored.CreateTime = existing.CreateTime;
  }
  state.variables.set(k, stored);
  tableWrite(state, idx);
  return { result: 'ok', written: stored };
}

/** varSetCASTxn: ModifyIndex 0 means "must not exist". */
function varSetCas(state: NomadState, idx: number, req: VarRequest, now: number): StateResult {
  const existing = state.variables.get(variableKey(req.Namespace, req.Path));
  if (req.ModifyIndex === 0 && existing) return { result: 'conflict', conflict: existing, zero: false };
  if (req.ModifyIndex !== 0 && !existing) return { result: 'conflict', conflict: zeroVar(req.Namespace, req.Path), zero: true };
  if (existing && req.ModifyIndex !== existing.ModifyIndex) return { result: 'conflict', conflict: existing, zero: false };
  return varSet(state, idx, req, now);
}

/** svDeleteTxn. */
function varDelete(state: NomadState, idx: number, req: VarRequest): StateResult {
  const k = variableKey(req.Namespace, req.Path);
  const existing = state.variables.get(k);
  if (!existing) return { result: 'ok', written: null };
  if (isLocked(existing.Lock, req)) return { result: 'conflict', conflict: zeroVar(existing.Namespace, existing.Path), zero: true };
  state.variables.delete(k);
  tableWrite(state, idx);
  return { result: 'ok', written: null };
}

/** svDeleteCASTxn. */
function varDeleteCas(state: NomadState, idx: number, req: VarRequest): StateResult {
  const existing = state.variables.get(variableKey(req.Namespace, req.Path));
  if (req.ModifyIndex === 0 && !existing) return { result: 'ok', written: null };
  if (req.ModifyIndex !== 0 && !existing) return { result: 'conflict', conflict: zeroVar(req.Namespace, req.Path), zero: true };
  if (req.ModifyIndex === 0 || req.ModifyIndex !== existing!.ModifyIndex) return { result: 'conflict', conflict: existing!, zero: false };
  return varDelete(state, idx, req);
}

/** VarLockAcquire: refuses a variable locked by another, then overwrites it (Items included). */
function varLockAcquire(state: NomadState, idx: number, req: VarRequest, now: number): StateResult {
  const existing = state.variables.get(variableKey(req.Namespace, req.Path));
  if (existing && isLocked(existing.Lock, req)) return { result: 'conflict', conflict: zeroVar(existing.Namespace, existing.Path), zero: true };
  return varSet(state, idx, req, now);
}

/** VarLockRelease: a request without a lock (the expiry's) releases whatever lock is held. */
function varLockRelease(state: NomadState, idx: number, ns: string, path: string, lockId: string | null): StateResult {
  const existing = state.variables.get(variableKey(ns, path));
  if (!existing) return { result: 'error', error: STATE_VAR_NOT_FOUND };
  if (!existing.Lock || existing.Lock.ID === '') return { result: 'error', error: STATE_LOCK_NOT_FOUND };
  if (lockId !== null && existing.Lock.ID !== lockId)
    return { result: 'conflict', conflict: zeroVar(existing.Namespace, existing.Path, { ID: '', TTL: 0, LockDelay: 0 }), zero: true };
  const updated: Variable = { ...existing, Lock: null, ModifyIndex: idx };
  state.variables.set(variableKey(ns, path), updated);
  tableWrite(state, idx);
  return { result: 'ok', written: updated };
}

// ---- the leader's lock timers (nomad/locks.go) ------------------------------------------------

const scaled = (state: NomadState, ns: number): number => ns / 1e6 / state.config.lockTimeScale;

/** CreateVariableLockTTLTimer: 2 × TTL; when it fires, LockDelay later, invalidateVariableLock. */
function createLockTtlTimer(state: NomadState, v: Variable): void {
  const lock = v.Lock!;
  if (state.lockTtlTimers.has(lock.ID)) return; // "attempting to recreate existing lock": the running timer is kept
  const { Namespace: ns, Path: path } = v;
  const delay = lock.LockDelay;
  startTtlTimer(state, lock.ID, lock.TTL, () => {
    state.lockTtlTimers.delete(lock.ID);
    state.later(scaled(state, delay), () => invalidateVariableLock(state, ns, path, 0));
  });
}

/** TTLTimer.Create: a new timer, or the running one reset (renew passes no callback: the first one stays). */
function startTtlTimer(state: NomadState, id: string, ttlNs: number, onExpiry?: () => void): void {
  const running = state.lockTtlTimers.get(id);
  if (running) state.cancel(running.timer);
  const expire = onExpiry ?? running?.expire ?? ((): void => undefined);
  state.lockTtlTimers.set(id, { timer: state.later(scaled(state, 2 * ttlNs), expire), expire });
}

/** RemoveVariableLockTTLTimer (TTLTimer.StopAndRemove). */
function removeLockTtlTimer(state: NomadState, id: string): void {
  const running = state.lockTtlTimers.get(id);
  if (!running) return;
  state.cancel(running.timer);
  state.lockTtlTimers.delete(id);
}

/** invalidateVariableLock: a lock-release with no lock ID through Raft; only a Raft failure (no leader) is retried, after 10 s << attempt. */
function invalidateVariableLock(state: NomadState, ns: string, path: string, attempt: number): void {
  if (!state.leader) {
    if (attempt + 1 < RAFT_APPLY_ATTEMPTS)
      state.later((10_000 * 2 ** attempt) / state.config.lockTimeScale, () => invalidateVariableLock(state, ns, path, attempt + 1));
    return;
  }
  varLockRelease(state, state.nextIndex(), ns, path, null);
  state.bump();
}

/** revokeLeadership stops every TTL timer; establishLeadership's restoreLockTTLTimers starts one per locked variable. */
export function leadershipChanged(state: NomadState): void {
  for (const id of [...state.lockTtlTimers.keys()]) removeLockTtlTimer(state, id);
  if (state.leader) for (const v of state.variables.values()) if (v.Lock) createLockTtlTimer(state, { ...v, Lock: { ...v.Lock } });
}

// ---- Variables.Apply ------------------------------------------------------------------------

interface ApplyReply {
  index: number;
  output?: Record<string, unknown>;
  conflict?: Record<string, unknown>;
  conflictModifyIndex?: number;
}

/** Variables.Apply, up to the reply the HTTP handler turns into an answer; errors are thrown as http.go would answer them. */
function apply(c: Cluster, ctx: RequestContext, op: VarOp, v: VarRequest): ApplyReply {
  const state = c.state;
  c.acl.authenticate(ctx.token);
  if (v.Namespace === '') v.Namespace = ctx.namespace;
  const need = op === 'delete' || op === 'delete-cas' ? 'destroy' : 'write';
  if (!c.acl.allowVariable(ctx.token, v.Namespace, v.Path, need)) throw new Answer(403, PERMISSION_DENIED);
  const invalid = canonicalizeAndValidate(op, v);
  if (invalid !== undefined) throw rpcAnswer(rpcCoded(400, invalid));

  const now = Date.now() * 1e6;
  const idx = state.nextIndex(); // the Raft apply: conflicts and errors take an index too
  let r: StateResult;
  switch (op) {
    case 'set':
      r = varSet(state, idx, v, now);
      break;
    case 'cas':
      r = varSetCas(state, idx, v, now);
      break;
    case 'delete':
      r = varDelete(state, idx, v);
      break;
    case 'delete-cas':
      r = varDeleteCas(state, idx, v);
      break;
    case 'lock-acquire':
      r = varLockAcquire(state, idx, v, now);
      break;
    case 'lock-release':
      r = varLockRelease(state, idx, v.Namespace, v.Path, v.Lock!.ID);
      break;
  }
  state.bump();

  // makeVariablesApplyResponse
  const canRead = c.acl.allowVariable(ctx.token, v.Namespace, v.Path, 'read');
  const management = c.acl.isManagement(ctx.token);
  if (r.result === 'error') throw rpcAnswer(r.error);
  if (r.result === 'ok') {
    if (r.written) {
      const owner = v.Lock !== null && r.written.Lock !== null && v.Lock.ID === r.written.Lock.ID;
      if (op === 'lock-acquire') createLockTtlTimer(state, structuredClone(r.written));
      if (op === 'lock-release') removeLockTtlTimer(state, v.Lock!.ID);
      return { index: idx, output: varJson(r.written, { lock: owner || management, items: v.Items }) };
    }
    return { index: idx };
  }
  const cv = r.conflict;
  // A caller that may not read sees the conflict's metadata (redacted); a zero value is only {Namespace, Path}.
  const conflict = !canRead
    ? varJson(cv, { lock: true, items: null })
    : r.zero
      ? varJson(zeroVar(cv.Namespace, cv.Path), { lock: false, items: null })
      : varJson(cv, { lock: true, items: cv.Items });
  return { index: idx, conflict, conflictModifyIndex: cv.ModifyIndex };
}

/** An RPC error answered after the call: setIndex of the empty reply has put X-Nomad-Index: 0. */
function withZeroIndex<T>(res: http.ServerResponse, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof Answer) res.setHeader('X-Nomad-Index', '0');
    throw e;
  }
}

// ---- HTTP ------------------------------------------------------------------------------------

/** getLockOperation: which of the lock query keys is present. */
function lockOperation(q: URLSearchParams): 'lock-acquire' | 'lock-renew' | 'lock-release' | undefined {
  const present = (['lock-acquire', 'lock-renew', 'lock-release'] as const).filter((k) => q.has(k));
  if (present.length > 1) throw new Answer(400, 'multiple lock operations');
  return present[0];
}

/** parseCAS. */
function parseCas(q: URLSearchParams): number | undefined {
  const cq = q.get('cas');
  if (!cq) return undefined;
  if (!/^\d+$/.test(cq)) throw new Answer(400, `can not parse cas: strconv.ParseUint: parsing ${JSON.stringify(cq)}: invalid syntax`);
  if (BigInt(cq) > 18446744073709551615n) throw new Answer(400, `can not parse cas: strconv.ParseUint: parsing ${JSON.stringify(cq)}: value out of range`);
  return Number(cq);
}

/** /v1/var/:path (VariableSpecificRequest). */
export async function variableRequest(c: Cluster, res: http.ServerResponse, ctx: RequestContext, method: string, path: string, raw: string): Promise<void> {
  if (path.length === 0) throw new Answer(400, 'missing variable path');
  switch (method) {
    case 'GET':
      return variableQuery(c, res, ctx, path);
    case 'PUT':
    case 'POST': {
      const lockOp = lockOperation(ctx.q);
      if (ctx.q.get('cas') && lockOp) throw new Answer(400, "CAS can't be used with lock operations");
      if (!lockOp) return variableUpsert(c, res, ctx, path, raw);
      if (lockOp === 'lock-renew') return variableLockRenew(c, res, ctx, path, raw);
      return variableLockOperation(c, res, ctx, path, raw, lockOp);
    }
    case 'DELETE':
      return variableDelete(c, res, ctx, path);
    default:
      throw new Answer(400, 'Invalid method');
  }
}

async function variableQuery(c: Cluster, res: http.ServerResponse, ctx: RequestContext, path: string): Promise<void> {
  c.acl.authenticate(ctx.token);
  if (!c.acl.allowVariable(ctx.token, ctx.namespace, path, 'read', c.acl.claimOf(ctx.token))) throw new Answer(403, PERMISSION_DENIED);
  const management = c.acl.isManagement(ctx.token);
  const r = await blocking(c.state, ctx, () => {
    const v = c.state.variables.get(variableKey(ctx.namespace, path));
    return v
      ? { index: v.ModifyIndex, value: varJson(v, { lock: management, items: v.Items ?? {} }) }
      : { index: Math.max(1, c.state.variablesIndex), value: undefined };
  });
  if (!r.value) throw notFoundAfterRead(res, r.index, 'variable not found', ctx);
  sendJson(res, 200, r.value, readMeta(r.index, ctx));
}

function variableUpsert(c: Cluster, res: http.ServerResponse, ctx: RequestContext, path: string, raw: string): void {
  const v = decodeVariable(raw);
  if (!v.Items || Object.keys(v.Items).length === 0) throw new Answer(400, 'variable missing required Items object');
  v.Path = path;
  const cas = parseCas(ctx.q);
  if (cas !== undefined) v.ModifyIndex = cas;
  const out = withZeroIndex(res, () => apply(c, ctx, cas === undefined ? 'set' : 'cas', v));
  if (out.conflict) return sendJson(res, 409, out.conflict, { 'X-Nomad-Index': String(out.conflictModifyIndex) });
  sendJson(res, 200, out.output, { 'X-Nomad-Index': String(out.index) });
}

function variableDelete(c: Cluster, res: http.ServerResponse, ctx: RequestContext, path: string): void {
  const v: VarRequest = { Namespace: '', Path: path, Lock: null, ModifyIndex: 0, Items: null };
  const cas = parseCas(ctx.q);
  if (cas !== undefined) v.ModifyIndex = cas;
  const out = withZeroIndex(res, () => apply(c, ctx, cas === undefined ? 'delete' : 'delete-cas', v));
  if (out.conflict) return sendJson(res, 409, out.conflict, { 'X-Nomad-Index': String(out.conflictModifyIndex) });
  if (res.destroyed) return;
  res.writeHead(204, { 'X-Nomad-Index': String(out.index) });
  res.end();
}

function variableLockOperation(
  c: Cluster,
  res: http.ServerResponse,
  ctx: RequestContext,
  path: string,
  raw: string,
  op: 'lock-acquire' | 'lock-release',
): void {
  const v = decodeVariable(raw);
  v.Path = path;
  const out = withZeroIndex(res, () => apply(c, ctx, op, v));
  if (out.conflict) return sendJson(res, 409, out.conflict, {});
  sendJson(res, 200, out.output, { 'X-Nomad-Index': String(out.index) });
}

/** Variables.RenewLock: no Raft write; the leader's TTL timer is reset. */
function variableLockRenew(c: Cluster, res: http.ServerResponse, ctx: RequestContext, path: string, raw: string): void {
  const lockId = decodeVariable(raw).Lock?.ID ?? '';
  c.acl.authenticate(ctx.token);
  if (!c.acl.allowVariable(ctx.token, ctx.namespace, path, 'write')) throw new Answer(403, PERMISSION_DENIED);
  if (lockId === '') throw new Answer(500, multierror(['missing lock ID']));
  const v = c.state.variables.get(variableKey(ctx.namespace, path));
  if (!v) throw rpcAnswer(ERR_VAR_NOT_FOUND);
  if (!v.Lock) throw rpcAnswer(ERR_LOCK_NOT_FOUND);
  if (v.Lock.ID !== lockId) throw rpcAnswer(ERR_VAR_IS_LOCKED);
  // A lock still in the variable but without a timer has expired and waits out its delay.
  if (!c.state.lockTtlTimers.has(lockId)) throw rpcAnswer(ERR_VAR_IS_LOCKED);
  startTtlTimer(c.state, lockId, v.Lock.TTL);
  sendJson(res, 200, varJson(v, { lock: true, items: null }), {});
}

/** GET /v1/vars (Variables.List): `prefix`, namespace "*" for all. */
export async function listVariables(c: Cluster, res: http.ServerResponse, ctx: RequestContext, method: string): Promise<void> {
  if (method !== 'GET') throw new Answer(405, 'Invalid method');
  c.acl.authenticate(ctx.token);
  const prefix = ctx.q.get('prefix') ?? '';
  const claim: DoubleWorkloadClaim | undefined = c.acl.claimOf(ctx.token);
  const management = c.acl.isManagement(ctx.token);
  const r = await blocking(c.state, ctx, () => {
    const list = [...c.state.variables.values()]
      .filter((v) => (ctx.namespace === '*' || v.Namespace === ctx.namespace) && v.Path.startsWith(prefix))
      .filter((v) => c.acl.allowVariable(ctx.token, v.Namespace, v.Path, 'list', claim))
      .sort((a, b) => (a.Namespace === b.Namespace ? (a.Path < b.Path ? -1 : 1) : a.Namespace < b.Namespace ? -1 : 1))
      .map((v) => varJson(v, { lock: management, items: null }));
    return { index: Math.max(1, c.state.variablesIndex), value: list };
  });
  sendJson(res, 200, r.value, readMeta(r.index, ctx));
}
